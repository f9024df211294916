package spec_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acgen/acgen/internal/diag"
	"github.com/acgen/acgen/spec"
)

// head starts the specs below: line 1 is input, line 2 `layers:`, and
// the first layer is on line 3.
const head = "input: [3, 8, 8]\nlayers:\n"

// badSpecs lists specs Parse must refuse, with where and what it says
// first. Every message spec/*.go can produce is here, except the YAML
// parser's own panic (wrapped, but no input is known to cause one).
var badSpecs = []struct {
	name string
	src  string
	pos  string // "s.yaml:line:col" of the first error, or "s.yaml" for the file as a whole
	msg  string // a distinctive part of the first error's message
	n    int    // errors reported, when more than one
}{
	// YAML itself.
	{name: "unclosed flow list", src: "input: [3, 8, 8\nlayers:\n  - {op: relu}\n", pos: "s.yaml:2:1", msg: "',' or ']' must be specified"},
	{name: "bad indentation", src: head + "  - op: relu\n   name: x\n", pos: "s.yaml:4:4", msg: "value is not allowed in this context"},
	{name: "tab indentation", src: head + "\t- {op: relu}\n", pos: "s.yaml:3:1", msg: "found character '\t' that cannot start any token"},
	{name: "unterminated string", src: head + "  - {op: \"relu}\n", pos: "s.yaml:3:10", msg: "could not find end character of double-quoted text"},
	{name: "duplicate top-level key", src: "input: [3, 8, 8]\ninput: [3, 8, 8]\nlayers:\n  - {op: relu}\n", pos: "s.yaml:2:1", msg: `mapping key "input" already defined at [1:1]`},
	{name: "duplicate layer field", src: head + "  - {op: relu, op: relu6}\n", pos: "s.yaml:3:16", msg: `mapping key "op" already defined at [3:6]`},
	{name: "complex key", src: "input: [3, 8, 8]\n? [a]\n: b\nlayers:\n  - {op: relu}\n", pos: "s.yaml:3:1", msg: "found an invalid key for this map"},
	{name: "empty file", src: "", pos: "s.yaml", msg: "is empty; a spec needs at least `input` and `layers`"},
	{name: "only a comment", src: "# nothing yet\n", pos: "s.yaml", msg: "is empty"},
	{name: "two documents", src: head + "  - {op: relu}\n---\ninput: [1, 1, 1]\n", pos: "s.yaml", msg: "holds 2 YAML documents; a spec is one"},
	{name: "a list", src: "- {op: relu}\n", pos: "s.yaml:1:1", msg: "the spec must be a mapping with `input` and `layers`, not a list"},
	{name: "a string", src: "relu\n", pos: "s.yaml:1:1", msg: `not the string "relu"`},
	{name: "binary", src: "\x00\x01\x02", pos: "s.yaml:1:1", msg: "the spec must be a mapping"},
	{name: "deep flow nesting", src: "input: " + strings.Repeat("[", 100000), pos: "s.yaml:1:71", msg: "nested more than 64 levels deep"},
	{name: "deep block nesting", src: "a:\n  " + strings.Repeat("- ", 100000) + "x\n", pos: "s.yaml:2:129", msg: "nested more than 64 levels deep"},
	{name: "deep indentation", src: "a:\n" + deepIndent(100), pos: "s.yaml:65:65", msg: "nested more than 64 levels deep"},
	{name: "anchor and alias", src: head + "  - &a {op: relu}\n  - *a\n", pos: "s.yaml:3:5", msg: "YAML anchors, aliases and merge keys are not supported", n: 2},
	{name: "merge key", src: head + "  - {op: relu}\n  - <<: {op: relu}\n", pos: "s.yaml:4:5", msg: "YAML anchors, aliases and merge keys are not supported"},
	{name: "tag", src: head + "  - !!map {op: relu}\n", pos: "s.yaml:3:5", msg: "YAML tags (!!map) are not supported"},
	{name: "tag on a layer field", src: head + "  - {name: a, op: conv, out: !!int 4, kernel: 1}\n", pos: "s.yaml:3:30", msg: `layer "a": YAML tags (!!int) are not supported`},
	{name: "non-string key", src: "input: [3, 8, 8]\n1: 2\nlayers:\n  - {op: relu}\n", pos: "s.yaml:2:1", msg: `key "1" is not a name`},

	// The top level.
	{name: "unknown top-level field", src: "input: [3, 8, 8]\nlayer:\n  - {op: relu}\n", pos: "s.yaml:2:1", msg: `unknown field "layer"; a spec has name, input, layers, output`, n: 2},
	{name: "no input", src: "layers:\n  - {op: relu}\n", pos: "s.yaml:1:1", msg: "the spec has no `input: [C, H, W]`"},
	{name: "no layers", src: "input: [3, 8, 8]\n", pos: "s.yaml:1:1", msg: "the spec has no `layers` list"},
	{name: "layers not a list", src: "input: [3, 8, 8]\nlayers: {a: 1}\n", pos: "s.yaml:2:9", msg: "`layers` must be a list of layers, not a mapping"},
	{name: "layers empty", src: "input: [3, 8, 8]\nlayers: []\n", pos: "s.yaml:2:9", msg: "`layers` is empty; a spec needs at least one layer"},
	{name: "layers null", src: "input: [3, 8, 8]\nlayers:\n", pos: "s.yaml:2:9", msg: "`layers` must be a list of layers, not nothing"},
	{name: "too many layers", src: head + strings.Repeat("  - {op: relu}\n", spec.MaxLayers+1), pos: "s.yaml:3:3", msg: "65537 layers is more than acgen takes (65536)"},
	{name: "input not a list", src: "input: 3\nlayers:\n  - {op: relu}\n", pos: "s.yaml:1:8", msg: `input must be [C, H, W], three whole numbers, not "3"`},
	{name: "input mapping", src: "input: {c: 3}\nlayers:\n  - {op: relu}\n", pos: "s.yaml:1:8", msg: "not a mapping"},
	{name: "input of two", src: "input: [8, 8]\nlayers:\n  - {op: relu}\n", pos: "s.yaml:1:8", msg: "three whole numbers, not 2 of them"},
	{name: "input zero", src: "input: [3, 0, 8]\nlayers:\n  - {op: relu}\n", pos: "s.yaml:1:12", msg: "input H must be at least 1"},
	{name: "input negative", src: "input: [3, 8, -8]\nlayers:\n  - {op: relu}\n", pos: "s.yaml:1:15", msg: "input W is -8; it must be between 0 and 1048576"},
	{name: "input float", src: "input: [3.0, 8, 8]\nlayers:\n  - {op: relu}\n", pos: "s.yaml:1:9", msg: `input C must be a whole number, not "3.0"`},
	{name: "input huge", src: "input: [3, 99999999999999999999, 8]\nlayers:\n  - {op: relu}\n", pos: "s.yaml:1:12", msg: "input H must be a whole number"},
	{name: "input beyond int64", src: "input: [3, 18446744073709551615, 8]\nlayers:\n  - {op: relu}\n", pos: "s.yaml:1:12", msg: "input H is 18446744073709551615; it must be between 0 and 1048576"},
	{name: "net name not a name", src: "name: [a]\n" + head + "  - {op: relu}\n", pos: "s.yaml:1:7", msg: "name must be a name, not a list"},
	{name: "net name comment marker", src: "name: a*/b\n" + head + "  - {op: relu}\n", pos: "s.yaml:1:7", msg: `name "a*/b" holds a comment marker`},
	{name: "output unknown", src: head + "  - {name: conv1, op: relu}\noutput: conv2\n", pos: "s.yaml:4:9", msg: `output: no layer is named "conv2"; did you mean "conv1"?`},
	{name: "output not a name", src: head + "  - {name: conv1, op: relu}\noutput: {a: b}\n", pos: "s.yaml:4:9", msg: "output must be a name, not a mapping"},

	// One layer on its own.
	{name: "layer not a mapping", src: head + "  - relu\n", pos: "s.yaml:3:5", msg: `layer 0 must be a mapping such as {name: relu1, op: relu}, not the string "relu"`},
	{name: "layer a list", src: head + "  - [relu]\n", pos: "s.yaml:3:5", msg: "layer 0 must be a mapping such as {name: relu1, op: relu}, not a list"},
	{name: "no op", src: head + "  - {name: a}\n", pos: "s.yaml:3:5", msg: `layer "a": no op; known ops: acblock, adaptive_avgpool, add, avgpool, bn, channel_shuffle, concat, conv, dbb, dilated_reparam, dropout, flatten, gelu, global_avgpool, grn, hardsigmoid, hardswish, layernorm, leaky_relu, linear, linear_sum, maxpool, mobileone, mul, qarepvgg, relu, relu6, repconv, repvgg, repvggdw, scale, sigmoid, silu, split, tanh`},
	{name: "no op, block style", src: head + "  - name: a\n    out: 3\n", pos: "s.yaml:3:5", msg: `layer "a": no op`},
	{name: "unknown op", src: head + "  - {name: c, op: conv2d, out: 3}\n", pos: "s.yaml:3:19", msg: `layer "c": unknown op "conv2d" (did you mean "conv"?); known ops: acblock, adaptive_avgpool, add, avgpool, bn, channel_shuffle, concat, conv, dbb, dilated_reparam, dropout, flatten, gelu, global_avgpool, grn, hardsigmoid, hardswish, layernorm, leaky_relu, linear, linear_sum, maxpool, mobileone, mul, qarepvgg, relu, relu6, repconv, repvgg, repvggdw, scale, sigmoid, silu, split, tanh`},
	{name: "unknown op, case", src: head + "  - {name: c, op: ACBlock, out: 3}\n", pos: "s.yaml:3:19", msg: `unknown op "ACBlock" (did you mean "acblock"?)`},
	{name: "unknown op, far", src: head + "  - {name: c, op: transformer}\n", pos: "s.yaml:3:19", msg: `unknown op "transformer"; known ops: acblock,`},
	{name: "op not a name", src: head + "  - {op: [relu]}\n", pos: "s.yaml:3:10", msg: "layer #0: op must be a name, not a list"},
	{name: "unknown field", src: head + "  - {name: c, op: conv, out: 4, kernal: 3}\n", pos: "s.yaml:3:33", msg: `layer "c": op conv has no field "kernal" (did you mean "kernel"?); it takes name, inputs, out, kernel, stride, padding, groups, dilation, prefix`, n: 2},
	{name: "field of another op", src: head + "  - {name: r, op: relu, kernel: 3}\n", pos: "s.yaml:3:25", msg: `layer "r": op relu has no field "kernel"; it takes name, inputs`},
	{name: "eps on a conv", src: head + "  - {name: c, op: conv, out: 4, kernel: 1, eps: 0.1}\n", pos: "s.yaml:3:44", msg: `op conv has no field "eps"`},
	{name: "prefix on an op without weights", src: head + "  - {op: relu, prefix: a}\n", pos: "s.yaml:3:16", msg: "layer #0 (relu): op relu has no weights, so `prefix` means nothing"},
	{name: "missing required field", src: head + "  - {name: c, op: conv, out: 4}\n", pos: "s.yaml:3:5", msg: "layer \"c\": op conv needs `kernel`"},
	{name: "missing out", src: head + "  - {name: c, op: acblock}\n", pos: "s.yaml:3:5", msg: "op acblock needs `out`"},
	{name: "weights without a name", src: head + "  - {op: conv, out: 4, kernel: 1}\n", pos: "s.yaml:3:5", msg: "layer #0 (conv): op conv has weights, so it needs a `name` to find them in the checkpoint"},
	{name: "name null", src: head + "  - {name: null, op: relu}\n", pos: "s.yaml:3:12", msg: "layer #0 (relu): name must be a name, not nothing"},
	{name: "name empty", src: head + "  - {name: '', op: relu}\n", pos: "s.yaml:3:12", msg: `name must be a name, not the string ""`},
	{name: "name with a newline", src: head + "  - {name: \"a\\nfunc init() {}\", op: relu}\n", pos: "s.yaml:3:12", msg: `name "a\nfunc init() {}" holds the control character U+000A; names are printable text`},
	{name: "name with a comment end", src: head + "  - {name: 'x*/ func init() {} /*', op: relu}\n", pos: "s.yaml:3:12", msg: `holds a comment marker ("/*" or "*/")`},
	{name: "name with a bidi override", src: head + "  - {name: \"a\\u202eb\", op: relu}\n", pos: "s.yaml:3:12", msg: "holds the control character U+202E"},
	{name: "prefix with a newline", src: head + "  - {name: c, op: bn, prefix: \"a\\nb\"}\n", pos: "s.yaml:3:31", msg: `layer "c": prefix "a\nb" holds the control character U+000A`},
	{name: "int field a string", src: head + "  - {name: c, op: conv, out: four, kernel: 1}\n", pos: "s.yaml:3:30", msg: `layer "c": out must be a whole number, not the string "four"`},
	{name: "int field a float", src: head + "  - {name: c, op: conv, out: 4, kernel: 1.5}\n", pos: "s.yaml:3:41", msg: `kernel must be a whole number or [h, w], not "1.5"`},
	{name: "int field negative", src: head + "  - {name: c, op: conv, out: -4, kernel: 1}\n", pos: "s.yaml:3:30", msg: `layer "c": out is -4; it must be between 0 and 1048576`},
	{name: "int field too big", src: head + "  - {name: c, op: conv, out: 1048577, kernel: 1}\n", pos: "s.yaml:3:30", msg: "out is 1048577; it must be between 0 and 1048576"},
	{name: "int field beyond uint64", src: head + "  - {name: c, op: conv, out: 99999999999999999999999, kernel: 1}\n", pos: "s.yaml:3:30", msg: `out must be a whole number, not the string "99999999999999999999999"`},
	{name: "int field zero", src: head + "  - {name: c, op: conv, out: 0, kernel: 1}\n", pos: "s.yaml:3:30", msg: `layer "c": out must be at least 1`},
	{name: "stride zero", src: head + "  - {name: c, op: conv, out: 4, kernel: 3, stride: 0}\n", pos: "s.yaml:3:52", msg: "stride must be at least 1"},
	{name: "groups zero", src: head + "  - {name: c, op: conv, out: 4, kernel: 3, groups: 0}\n", pos: "s.yaml:3:52", msg: "groups must be at least 1"},
	{name: "pool kernel zero", src: head + "  - {op: maxpool, kernel: 0}\n", pos: "s.yaml:3:27", msg: "layer #0 (maxpool): kernel must be at least 1"},
	{name: "eps zero", src: head + "  - {name: b, op: bn, eps: 0}\n", pos: "s.yaml:3:28", msg: `layer "b": eps must be a positive number, not "0"`},
	{name: "eps negative", src: head + "  - {name: b, op: bn, eps: -1e-5}\n", pos: "s.yaml:3:28", msg: `eps must be a positive number, not "-1e-5"`},
	{name: "eps nan", src: head + "  - {name: b, op: bn, eps: nan}\n", pos: "s.yaml:3:28", msg: `eps must be a positive number, not "nan"`},
	{name: "eps infinite", src: head + "  - {name: b, op: bn, eps: .inf}\n", pos: "s.yaml:3:28", msg: `eps must be a number, not ".inf"`},
	{name: "eps overflows", src: head + "  - {name: b, op: bn, eps: 1e999}\n", pos: "s.yaml:3:28", msg: `eps must be a positive number, not "1e999"`},
	{name: "eps a list", src: head + "  - {name: b, op: bn, eps: [1]}\n", pos: "s.yaml:3:28", msg: "eps must be a number, not a list"},
	{name: "eps a bool", src: head + "  - {name: b, op: bn, eps: true}\n", pos: "s.yaml:3:28", msg: `eps must be a number, not "true"`},
	{name: "even acblock kernel", src: head + "  - {name: a, op: acblock, out: 4, kernel: 4}\n", pos: "s.yaml:3:44", msg: `layer "a": kernel 4 is even; an ACBlock adds its 1xK and Kx1 kernels into the centre row and column of the KxK one, so K must be odd`},
	{name: "acblock dilation", src: head + "  - {name: a, op: acblock, out: 4, dilation: 2}\n", pos: "s.yaml:3:46", msg: `layer "a": dilation 2: ACNet pads the 1xK and Kx1 branches for dilation 1`},
	{name: "pool padding over half", src: head + "  - {op: avgpool, kernel: 3, padding: 2}\n", pos: "s.yaml:3:39", msg: "padding 2 is more than half the kernel (3), which PyTorch refuses too"},
	{name: "kernel list of three", src: head + "  - {name: c, op: conv, out: 4, kernel: [1, 2, 3]}\n", pos: "s.yaml:3:41", msg: "kernel must be a whole number or [h, w], two of them, not 3"},
	{name: "kernel a mapping", src: head + "  - {name: c, op: conv, out: 4, kernel: {h: 1}}\n", pos: "s.yaml:3:41", msg: "kernel must be a whole number or [h, w], not a mapping"},
	{name: "kernel list of strings", src: head + "  - {name: c, op: conv, out: 4, kernel: [a, 1]}\n", pos: "s.yaml:3:42", msg: `kernel h must be a whole number, not the string "a"`},
	{name: "stride width zero", src: head + "  - {name: c, op: conv, out: 4, kernel: 3, stride: [1, 0]}\n", pos: "s.yaml:3:52", msg: "stride must be at least 1"},
	{name: "padding width negative", src: head + "  - {name: c, op: conv, out: 4, kernel: 3, padding: [1, -1]}\n", pos: "s.yaml:3:57", msg: "padding w is -1; it must be between 0 and 1048576"},
	{name: "acblock non-square kernel", src: head + "  - {name: a, op: acblock, out: 4, kernel: [3, 5]}\n", pos: "s.yaml:3:44", msg: `layer "a": kernel [3, 5]: an op acblock block is square`},
	{name: "repvgg non-square stride", src: head + "  - {name: a, op: repvgg, out: 4, stride: [1, 2]}\n", pos: "s.yaml:3:43", msg: "stride [1, 2]: an op repvgg block is square"},
	{name: "dbb non-square padding", src: head + "  - {name: a, op: dbb, out: 4, padding: [1, 0]}\n", pos: "s.yaml:3:41", msg: "padding [1, 0]: an op dbb block is square"},
	{name: "pool padding over half, per axis", src: head + "  - {op: maxpool, kernel: [3, 2], padding: [1, 2]}\n", pos: "s.yaml:3:44", msg: "padding [1, 2] is more than half the kernel width (2)"},
	{name: "ceil_mode not a bool", src: head + "  - {op: maxpool, kernel: 2, ceil_mode: 1}\n", pos: "s.yaml:3:41", msg: `layer #0 (maxpool): ceil_mode must be true or false, not "1"`},
	{name: "count_include_pad on maxpool", src: head + "  - {op: maxpool, kernel: 2, count_include_pad: false}\n", pos: "s.yaml:3:30", msg: `op maxpool has no field "count_include_pad"`},
	{name: "count_include_pad a string", src: head + "  - {op: avgpool, kernel: 2, count_include_pad: no}\n", pos: "s.yaml:3:49", msg: `count_include_pad must be true or false, not the string "no"`},
	{name: "adaptive pool without size", src: head + "  - {op: adaptive_avgpool}\n", pos: "s.yaml:3:5", msg: "layer #0 (adaptive_avgpool): op adaptive_avgpool needs `size`"},
	{name: "adaptive pool size zero", src: head + "  - {op: adaptive_avgpool, size: [0, 6]}\n", pos: "s.yaml:3:34", msg: "size must be at least 1"},
	{name: "adaptive pool size null", src: head + "  - {op: adaptive_avgpool, size: [null, 6]}\n", pos: "s.yaml:3:35", msg: "size h must be a whole number, not nothing"},
	{name: "out not a multiple of groups", src: head + "  - {name: c, op: conv, out: 4, kernel: 3, groups: 3}\n", pos: "s.yaml:3:52", msg: `layer "c": out 4 is not a multiple of groups 3`},

	// Layers together.
	{name: "duplicate name", src: head + "  - {name: a, op: relu}\n  - {name: a, op: relu}\n", pos: "s.yaml:4:12", msg: `layer "a": the name is already used by the layer at line 3`},
	{name: "duplicate numeric name", src: head + "  - {name: 0, op: relu}\n  - {name: '0', op: relu}\n", pos: "s.yaml:4:12", msg: `layer "0": the name is already used by the layer at line 3`},
	{name: "input missing", src: head + "  - {name: a, op: relu}\n  - {name: b, op: add, inputs: [a, c]}\n", pos: "s.yaml:4:36", msg: `layer "b": inputs: no layer is named "c"`},
	{name: "input typo", src: head + "  - {name: relu1, op: relu}\n  - {name: b, op: relu, inputs: [rleu1]}\n", pos: "s.yaml:4:34", msg: `inputs: no layer is named "rleu1"; did you mean "relu1"?`},
	{name: "input later", src: head + "  - {name: a, op: relu}\n  - {name: b, op: add, inputs: [a, c]}\n  - {name: c, op: relu}\n", pos: "s.yaml:4:36", msg: `layer "b": input "c" is layer #2, which runs after this one (layers run in the order written)`},
	{name: "input itself", src: head + "  - {name: a, op: relu}\n  - {name: b, op: relu, inputs: b}\n", pos: "s.yaml:4:33", msg: `layer "b": input "b" is this layer itself`},
	{name: "input not a name", src: head + "  - {name: a, op: relu}\n  - {op: relu, inputs: {a: b}}\n", pos: "s.yaml:4:24", msg: "layer #1 (relu): inputs must be a name, not a mapping"},
	{name: "input empty name", src: head + "  - {name: a, op: relu}\n  - {op: relu, inputs: ['']}\n", pos: "s.yaml:4:25", msg: `inputs must be a name, not the string ""`},
	{name: "inputs on the first layer", src: head + "  - {op: relu, inputs: [x]}\n", pos: "s.yaml:3:24", msg: "layer #0 (relu): the first layer reads the network input and takes no `inputs`"},
	{name: "add without inputs", src: head + "  - {name: a, op: relu}\n  - {op: add}\n", pos: "s.yaml:4:5", msg: "layer #1 (add): op add needs `inputs` naming at least 2 layers"},
	{name: "add of one", src: head + "  - {name: a, op: relu}\n  - {op: add, inputs: [a]}\n", pos: "s.yaml:4:23", msg: "op add needs at least 2 inputs, got 1"},
	{name: "concat of none", src: head + "  - {name: a, op: relu}\n  - {op: concat, inputs: []}\n", pos: "s.yaml:4:26", msg: "op concat needs at least 2 inputs, got 0"},
	{name: "gelu approximate unknown", src: head + "  - {op: gelu, approximate: erf}\n", pos: "s.yaml:3:29", msg: `layer #0 (gelu): approximate must be none or tanh, not "erf"`},
	{name: "gelu approximate not a word", src: head + "  - {op: gelu, approximate: [tanh]}\n", pos: "s.yaml:3:29", msg: "approximate must be a name, not a list"},
	{name: "split without sizes", src: head + "  - {name: s, op: split}\n", pos: "s.yaml:3:5", msg: "layer \"s\": op split needs `sizes`"},
	{name: "split sizes empty", src: head + "  - {name: s, op: split, sizes: []}\n", pos: "s.yaml:3:33", msg: "sizes is empty; it must list at least one"},
	{name: "split sizes a number", src: head + "  - {name: s, op: split, sizes: 2}\n", pos: "s.yaml:3:33", msg: `sizes must be a list of whole numbers, not "2"`},
	{name: "split size zero", src: head + "  - {name: s, op: split, sizes: [2, 0]}\n", pos: "s.yaml:3:37", msg: "sizes must be at least 1"},
	{name: "shuffle without groups", src: head + "  - {op: channel_shuffle}\n", pos: "s.yaml:3:5", msg: "op channel_shuffle needs `groups`"},
	{name: "split read whole", src: head + "  - {name: s, op: split, sizes: [1, 2]}\n  - {op: add, inputs: [s, s:1]}\n", pos: "s.yaml:4:24", msg: `layer #1 (add): inputs: layer "s" has 2 outputs: name one, as "s:0"`},
	{name: "split read by the next layer", src: head + "  - {name: s, op: split, sizes: [1, 2]}\n  - {op: relu}\n", pos: "s.yaml:4:5", msg: `layer #1 (relu): the layer before, "s", has 2 outputs: name the one this layer reads in ` + "`inputs`" + `, as "s:0"`},
	{name: "split output past the last", src: head + "  - {name: s, op: split, sizes: [1, 2]}\n  - {op: relu, inputs: [s:2]}\n", pos: "s.yaml:4:25", msg: `inputs: layer "s" has outputs "s:0" to "s:1", not "s:2"`},
	{name: "split output not a number", src: head + "  - {name: s, op: split, sizes: [1, 2]}\n  - {op: relu, inputs: [s:x]}\n", pos: "s.yaml:4:25", msg: `not "s:x"`},
	{name: "split output with a sign", src: head + "  - {name: s, op: split, sizes: [1, 2]}\n  - {op: relu, inputs: [\"s:+1\"]}\n", pos: "s.yaml:4:25", msg: `not "s:+1"`},
	{name: "port of a one-output layer", src: head + "  - {name: r, op: relu}\n  - {op: relu, inputs: [r:0]}\n", pos: "s.yaml:4:25", msg: `inputs: layer "r" has one output; name it "r"`},
	{name: "port of no layer", src: head + "  - {name: r, op: relu}\n  - {op: relu, inputs: [q:0]}\n", pos: "s.yaml:4:25", msg: `inputs: no layer is named "q:0"`},
	{name: "split as the output", src: head + "  - {name: s, op: split, sizes: [1, 2]}\n", pos: "s.yaml:3:5", msg: `layer "s": the network returns the last layer, which has 2 outputs: name one in ` + "`output`" + `, as "s:0"`},
	{name: "split output named whole", src: head + "  - {name: s, op: split, sizes: [1, 2]}\noutput: s\n", pos: "s.yaml:4:9", msg: `output: layer "s" has 2 outputs`},
	{name: "relu of two", src: head + "  - {name: a, op: relu}\n  - {op: relu, inputs: [a, a]}\n", pos: "s.yaml:4:24", msg: "op relu takes one input, got 2"},
}

func deepIndent(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		b.WriteString(strings.Repeat(" ", i) + "-\n")
	}
	return b.String()
}

func TestBadSpecs(t *testing.T) {
	for _, c := range badSpecs {
		t.Run(c.name, func(t *testing.T) {
			net, err := spec.Parse("s.yaml", []byte(c.src))
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", net)
			}
			if net != nil {
				t.Errorf("Parse returned a Net with its error")
			}
			checkErr(t, err)
			first, _, _ := strings.Cut(err.Error(), "\n")
			loc, msg, ok := strings.Cut(first, ": ")
			if !ok || loc != c.pos {
				t.Errorf("first error %q\nis at %q, want %q", first, loc, c.pos)
			}
			if !strings.Contains(msg, c.msg) {
				t.Errorf("first error %q\ndoes not say %q", first, c.msg)
			}
			want := max(c.n, 1)
			if got := len(diag.Errors(err)); got != want {
				t.Errorf("%d errors, want %d:\n%v", got, want, err)
			}
		})
	}
}

// checkErr checks what every error of Parse's must be: ErrSpec, each
// problem on one line that starts with a position, at most MaxShown lines
// of them and one that counts the rest.
func checkErr(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, spec.ErrSpec) {
		t.Errorf("errors.Is(err, spec.ErrSpec) is false for %q", err)
	}
	errs := diag.Errors(err)
	for _, e := range errs {
		if strings.Contains(e.Error(), "\n") {
			t.Errorf("error %q spans lines", e)
		}
		if !strings.HasPrefix(e.Error(), "s.yaml") {
			t.Errorf("error %q does not start with the file's name", e)
		}
		var se *spec.Error
		if !errors.As(e, &se) {
			t.Errorf("error %q is not a *spec.Error", e)
		}
	}
	lines := strings.Split(err.Error(), "\n")
	if want := min(len(errs), diag.MaxShown); len(errs) > diag.MaxShown {
		if len(lines) != want+1 || !strings.HasPrefix(lines[want], "(and ") {
			t.Errorf("%d errors print as %d lines, want %d and a count:\n%s", len(errs), len(lines), want, err)
		}
	} else if len(lines) != want {
		t.Errorf("%d errors print as %d lines", len(errs), len(lines))
	}
}

// TestManyErrors checks that every problem is found in one run, and that
// ten are shown.
func TestManyErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString(head)
	for i := 0; i < 25; i++ {
		b.WriteString("  - {name: l" + string(rune('a'+i)) + ", op: foo}\n")
	}
	_, err := spec.Parse("s.yaml", []byte(b.String()))
	if got := len(diag.Errors(err)); got != 25 {
		t.Fatalf("%d errors, want 25", got)
	}
	checkErr(t, err)
	lines := strings.Split(err.Error(), "\n")
	if lines[len(lines)-1] != "(and 15 more errors)" {
		t.Errorf("last line %q", lines[len(lines)-1])
	}
	if !strings.HasPrefix(lines[9], `s.yaml:12:20: layer "lj": unknown op "foo"`) {
		t.Errorf("tenth line %q", lines[9])
	}
}

// TestOneErrorPerProblem guards against a wrong value also being
// reported as the default it was replaced by.
func TestOneErrorPerProblem(t *testing.T) {
	for _, src := range []string{
		head + "  - {name: c, op: conv, out: x, kernel: y, groups: z}\n",      // three bad values, no "must be at least 1"
		head + "  - {name: c, op: conv, out: 4, kernal: 3}\n",                 // unknown field, missing kernel: not also "kernel must be at least 1"
		head + "  - {name: c, op: acblock, out: 4, kernel: x, dilation: y}\n", // not also "even" or "dilation 0"
		head + "  - {name: [c], op: conv, out: 4, kernel: 1}\n",               // bad name: not also "needs a name"
		head + "  - {name: c, op: relu, inputs: *x}\n",                        // an alias: not also "no op"
	} {
		_, err := spec.Parse("s.yaml", []byte(src))
		if err == nil {
			t.Errorf("accepted %q", src)
			continue
		}
		errs := diag.Errors(err)
		seen := map[string]bool{}
		for _, e := range errs {
			loc, _, _ := strings.Cut(e.Error(), ": ")
			if seen[loc] {
				t.Errorf("%q: two errors at %s:\n%v", src, loc, err)
			}
			seen[loc] = true
		}
	}
}

func TestTooLarge(t *testing.T) {
	big := make([]byte, spec.MaxFileBytes+1)
	_, err := spec.Parse("s.yaml", big)
	if err == nil || !errors.Is(err, spec.ErrSpec) || !strings.Contains(err.Error(), "s.yaml: is larger than a spec can be (16777216 bytes)") {
		t.Errorf("Parse: %v", err)
	}
	path := filepath.Join(t.TempDir(), "net.yaml")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(spec.MaxFileBytes + 1); err != nil { // sparse: costs nothing
		t.Fatal(err)
	}
	f.Close()
	if _, err := spec.Load(path); err == nil || !strings.Contains(err.Error(), "bytes is larger than a spec can be") {
		t.Errorf("Load: %v", err)
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := spec.Load(filepath.Join(t.TempDir(), "none.yaml"))
	if err == nil || errors.Is(err, spec.ErrSpec) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file: %v; want an os.ErrNotExist that is not ErrSpec", err)
	}
}
