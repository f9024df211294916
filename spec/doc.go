// Package spec reads net.yaml, the file that describes a network to acgen.
//
// The spec is the contract between a user's training code and acgen: it
// lists the layers in order, their hyper-parameters, and (through each
// layer's name or prefix) the checkpoint keys that hold their weights.
// Parse resolves every default the way PyTorch does, checks everything
// that can be checked without shapes or weights (unknown ops and fields,
// value ranges, duplicate names, inputs that name later or missing
// layers, names that could break out of a comment in the generated Go,
// YAML nested deep enough to make the parser itself a problem), and
// remembers the file position of every layer and field so that later
// stages can point at the line a problem comes from.
//
// The format:
//
//	name: resnet20                 # optional: default Go package name
//	input: [3, 32, 32]             # C, H, W of one sample (NCHW float32)
//	layers:                        # a layer reads the previous one unless `inputs` says otherwise
//	  - {name: conv1, op: acblock, out: 16, kernel: 3, stride: 1, padding: 1}
//	  - {name: relu1, op: relu}
//	  - {name: gap, op: global_avgpool}
//	  - {name: linear, op: linear, out: 10}
//	output: linear                 # optional: default the last layer
//
// Ops and their fields are listed in ops.go.
package spec
