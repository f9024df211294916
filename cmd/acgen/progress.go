package main

import (
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows what a long run is doing, on a terminal only: a spinner
// with the current stage and its elapsed time on stderr, cleared when the
// stage ends. Off a terminal (go generate in CI, a log file) and with -q
// it prints nothing.
type progress struct {
	bar *progressbar.ProgressBar
	out io.Writer
}

func newProgress(stderr io.Writer, quiet bool) *progress {
	f, ok := stderr.(*os.File)
	if quiet || !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return &progress{out: stderr}
}

// status is driver.Config.Status.
func (p *progress) status(stage string, done bool, _ time.Duration) {
	if p == nil {
		return
	}
	if done {
		if p.bar != nil {
			p.bar.Finish()
			p.bar = nil
		}
		return
	}
	p.bar = progressbar.NewOptions(-1,
		progressbar.OptionSetWriter(p.out),
		progressbar.OptionSetDescription("acgen: "+stage),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	// The spinner moves on its own while a stage runs.
	bar := p.bar
	go func() {
		for !bar.IsFinished() {
			bar.Add(1)
			time.Sleep(100 * time.Millisecond)
		}
	}()
}
