package graph_test

import (
	"strings"
	"testing"

	"github.com/acgen/acgen/graph"
)

// TestUnread: keys of the modules a spec's `unread` names (an auxiliary
// classifier eval mode never runs) are not reported, and only those.
func TestUnread(t *testing.T) {
	net := parseNet(t, "unread: [aux1]\n"+net1)
	ck := synthFile(t, net)
	add(ck, "aux1.conv.weight", []int{3}, 0)
	add(ck, "aux1.fc.bias", []int{3}, 0)
	if _, err := graph.Build(net, ck, graph.Options{}); err != nil {
		t.Fatalf("keys under an unread module: %v", err)
	}
	add(ck, "aux10.weight", []int{3}, 0) // not under aux1: a prefix is a module path
	if _, err := graph.Build(net, ck, graph.Options{}); err == nil || !strings.Contains(err.Error(), `"aux10.weight"`) {
		t.Errorf("a key beside the unread module: %v", err)
	}
}
