module github.com/acgen/acgen

go 1.24.0

require (
	github.com/dave/jennifer v1.7.1
	github.com/goccy/go-yaml v1.19.2
	github.com/mmcloughlin/avo v0.5.0
	github.com/schollz/progressbar/v3 v3.18.0
	github.com/spf13/pflag v1.1.0
	golang.org/x/arch v0.24.0
	golang.org/x/mod v0.6.0
	golang.org/x/sys v0.29.0
	golang.org/x/term v0.28.0
)

require (
	github.com/mitchellh/colorstring v0.0.0-20190213212951-d06e56a500db // indirect
	github.com/rivo/uniseg v0.4.7 // indirect
	golang.org/x/tools v0.2.0 // indirect
)
