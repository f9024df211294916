package checkpoint

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// pklErr wraps a pickle in a torch archive, reads it, and wants an error
// containing want.
func pklErr(t *testing.T, name string, pkl []byte, want string) {
	t.Helper()
	expectErr(t, name, makePth(t, pkl, oneStorage), want)
}

func TestPickleRefusesGlobals(t *testing.T) {
	for _, g := range []string{"os.system", "posix.system", "nt.system", "builtins.eval",
		"__builtin__.eval", "builtins.exec", "builtins.getattr", "subprocess.Popen",
		"copy_reg._reconstructor", "copyreg._reconstructor", "__builtin__.object",
		"builtins.object", "torch.load", "torch.nn.modules.conv.Conv2d",
		"torch._utils._rebuild_qtensor", "collections.defaultdict", "torch.Tensor"} {
		i := strings.LastIndexByte(g, '.')
		mod, name := g[:i], g[i+1:]
		want := `model.pth: data.pkl: pickle names "` + g + `": refused; a state_dict needs only tensors and dicts`
		// Protocol 2 GLOBAL, the usual way to run code from a pickle.
		p := new(pk).proto(2).global(mod, name).str("echo pwned").op(0x85, 'R', '.')
		pklErr(t, "model.pth", p.Bytes(), want)
		// Protocol 4 STACK_GLOBAL.
		p = new(pk).proto(4).op(0x8c, byte(len(mod))).op([]byte(mod)...).op(0x8c, byte(len(name))).op([]byte(name)...).op(0x93, '.')
		pklErr(t, "model.pth", p.Bytes(), want)
	}
	// The exact message the issue asks for.
	_, err := Read("model.pth", makePth(t, new(pk).proto(2).global("posix", "system").op('.').Bytes(), nil), Options{})
	if err == nil || err.Error() != `model.pth: data.pkl: pickle names "posix.system": refused; a state_dict needs only tensors and dicts` {
		t.Errorf("got %v", err)
	}
}

func TestPickleRefusesCalls(t *testing.T) {
	od := func() *pk { return new(pk).proto(2).global("collections", "OrderedDict") }
	cases := []struct {
		name string
		pkl  *pk
		want string
	}{
		{"OrderedDict(int)", od().int(1).op(0x85, 'R', '.'), "pickle calls collections.OrderedDict(int): unexpected arguments: refused"},
		{"OrderedDict(str)", od().str("/etc/passwd").op(0x85, 'R', '.'), "collections.OrderedDict(str): unexpected arguments"},
		{"OrderedDict(a, b)", od().op(')', ')', 0x86, 'R', '.'), "collections.OrderedDict(tuple, tuple)"},
		{"OrderedDict(bad pairs)", od().op(']', 'N', 'a', 0x85, 'R', '.'), "collections.OrderedDict(list)"},
		{"OrderedDict(pairs)", od().op(']').str("w").op('N', 0x86, 'a', 0x85, 'R', '.'), "collections.OrderedDict(list): unexpected arguments"},
		{"call a string", new(pk).proto(2).str("os").op(')', 'R', '.'), "pickle calls a str: refused"},
		{"call a storage class", new(pk).proto(2).global("torch", "FloatStorage").op(')', 'R', '.'), "pickle calls a torch.FloatStorage: refused"},
		{"rebuild with 2 args", new(pk).proto(2).global("torch._utils", "_rebuild_tensor_v2").op('N', 'N', 0x86, 'R', '.'), "_rebuild_tensor_v2(None, None): unexpected arguments"},
		{"rebuild_parameter of int", new(pk).proto(2).global("torch._utils", "_rebuild_parameter").int(1).op(0x89, '}', 0x87, 'R', '.'), "_rebuild_parameter(int, bool, dict)"},
		{"NEWOBJ OrderedDict(args)", od().int(1).op(0x85, 0x81, '.'), "pickle constructs a collections.OrderedDict(int): refused"},
		{"NEWOBJ str", new(pk).proto(2).str("x").op(')', 0x81, '.'), "pickle constructs a str(): refused"},
		{"NEWOBJ_EX kwargs", od().op(')', '}', 'N', 'N', 's', 0x92, '.'), "keyword arguments: refused"},
		{"BUILD on a list", new(pk).proto(2).op(']', '}', 'b', '.'), "pickle sets the state of a list to a dict: refused"},
		{"BUILD with a str", od().op(')', 'R').str("x").op('b', '.'), "pickle sets the state of a dict to a str: refused"},
		{"persistent str", new(pk).proto(2).str("/etc/passwd").op('Q', '.'), "pickle refers to a persistent str, not a storage: refused"},
		{"PERSID", new(pk).proto(0).op([]byte("Pfoo\n.")...), "pickle refers to a persistent str, not a storage"},
		{"persistent short tuple", new(pk).proto(2).str("storage").op(0x85, 'Q', '.'), "refers to a persistent tuple(str), not a storage"},
		{"persistent bad types", new(pk).proto(2).op('(').str("storage").int(1).int(2).int(3).int(4).op('t', 'Q', '.'), "pickle refers to a storage(str, int, int, int, int)"},
		{"persistent wrong types", new(pk).proto(2).op('(').str("storage").str("FloatStorage").str("0").str("cpu").int(4).op('t', 'Q', '.'), "want (\"storage\", class, key, location, numel)"},
		{"INST", new(pk).proto(0).op([]byte("(ios\nsystem\n.")...), "(INST): not used by state_dict pickles: refused"},
		{"OBJ", new(pk).proto(1).op('(', 'N', 'o', '.'), "(OBJ): not used by state_dict pickles: refused"},
		{"EXT1", new(pk).proto(2).op(0x82, 1, '.'), "(EXT1): not used"},
		{"set", new(pk).proto(4).op(0x8f, '.'), "(EMPTY_SET): not used"},
		{"out-of-band buffer", new(pk).proto(5).op(0x97, '.'), "(NEXT_BUFFER): not used"},
		{"unknown opcode", new(pk).proto(2).op(0xff, '.'), "(opcode 0xff): unknown opcode"},
	}
	for _, c := range cases {
		pklErr(t, "model.pth", c.pkl.Bytes(), c.want)
	}
}

func TestPickleMalformed(t *testing.T) {
	u64 := func(n uint64) []byte { return binary.LittleEndian.AppendUint64(nil, n) }
	u32 := func(n uint32) []byte { return binary.LittleEndian.AppendUint32(nil, n) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	cases := []struct {
		name string
		pkl  []byte
		want string
	}{
		{"empty", nil, "no STOP opcode: pickle truncated"},
		{"stop on empty", []byte("."), "(STOP): stack underflow"},
		{"BINUNICODE8 huge", cat([]byte{0x80, 4, 0x8d}, u64(1<<62)), "string of 4611686018427387904 bytes but only 0 left"},
		{"BINUNICODE8 2^64-1", cat([]byte{0x80, 4, 0x8d}, u64(1<<64-1)), "but only 0 left"},
		{"BINBYTES8 huge", cat([]byte{0x80, 4, 0x8e}, u64(3<<30), []byte("abc")), "string of 3221225472 bytes but only 3 left"},
		{"BYTEARRAY8 huge", cat([]byte{0x80, 5, 0x96}, u64(1<<40)), "but only 0 left"},
		{"BINUNICODE huge", cat([]byte{0x80, 2, 'X'}, u32(1<<32-1)), "string of 4294967295 bytes"},
		{"BINSTRING negative", cat([]byte{0x80, 2, 'T'}, u32(1<<32-1)), "negative length -1"},
		{"FRAME huge", cat([]byte{0x80, 4, 0x95}, u64(3<<30), []byte("N.")), "frame of 3221225472 bytes but only 2 left"},
		{"LONG4 huge", cat([]byte{0x80, 2, 0x8b}, u32(1<<30)), "integer of 1073741824 bytes is larger"},
		{"LONG4 negative", cat([]byte{0x80, 2, 0x8b}, u32(1<<31)), "negative length"},
		{"LONG text huge", []byte("L" + strings.Repeat("9", 5000) + "L\n."), "integer of 5000 digits"},
		{"INT garbage", []byte("Ixyz\n."), `bad integer "xyz"`},
		{"FLOAT garbage", []byte("Fxyz\n."), `bad float "xyz"`},
		{"no newline", []byte("I12"), "no newline"},
		{"protocol 6", []byte{0x80, 6, 'N', '.'}, "protocol 6 is newer than 5"},
		{"memo miss", []byte{0x80, 2, 'h', 7, '.'}, "memo entry 7 was never stored"},
		{"memo miss long", []byte{0x80, 2, 'j', 0xff, 0xff, 0xff, 0xff, '.'}, "memo entry 4294967295"},
		{"PUT empty", []byte{0x80, 2, 'q', 0, '.'}, "(BINPUT): stack underflow"},
		{"SETITEMS odd", []byte{0x80, 2, '}', '(', 'N', 'u', '.'}, "odd number of items (1) for a dict"},
		{"SETITEMS on list", []byte{0x80, 2, ']', '(', 'N', 'N', 'u', '.'}, "setting items on a list, not a dict"},
		{"APPEND to dict", []byte{0x80, 2, '}', 'N', 'a', '.'}, "appending to a dict, not a list"},
		{"unhashable key", []byte{0x80, 2, '}', ']', 'N', 's', '.'}, "dict key of type list is not supported"},
		{"POP_MARK no mark", []byte{0x80, 2, '1', '.'}, "no MARK to pop to"},
		{"TUPLE3 short", []byte{0x80, 2, 'N', 0x87, '.'}, "(TUPLE3): stack underflow"},
		{"TUPLE across mark", []byte{0x80, 2, 'N', '(', 0x85, '.'}, "(TUPLE1): stack underflow"},
		{"REDUCE args not tuple", []byte{0x80, 2, 'N', 'N', 'R', '.'}, "arguments are a None, not a tuple"},
		{"STACK_GLOBAL ints", []byte{0x80, 4, 'K', 1, 'K', 2, 0x93, '.'}, "module and name are int and int, not str"},
		{"bad UTF-8", []byte{0x80, 2, 0x8c, 2, 0xff, 0xfe, '.'}, "not valid UTF-8"},
		{"deep marks", append([]byte{0x80, 2}, bytes.Repeat([]byte{'('}, 5000)...), "more than 1000 nested MARKs"},
		{"STRING unquoted", []byte("Sabc\n."), "STRING argument is not quoted"},
		{"STRING bad escape", []byte("S'\\x4'\n."), "truncated \\x escape"},
		{"trailing garbage after STOP is ignored", []byte("N.garbage"), "the pickle holds a None"},
	}
	for _, c := range cases {
		pklErr(t, "model.pth", c.pkl, "model.pth: data.pkl: ")
		pklErr(t, "model.pth", c.pkl, c.want)
	}
}

// TestPickleStructures: values that would hang or blow the stack of a
// decoder (or of code printing them) that walks them recursively.
func TestPickleStructures(t *testing.T) {
	// A list that contains itself.
	pklErr(t, "model.pth", []byte{0x80, 2, ']', 'q', 0, 'h', 0, 'a', '.'}, "the pickle holds a list, not a dict")
	// A dict whose value is itself.
	pklErr(t, "model.pth", []byte{0x80, 2, '}', 'q', 0, 'X', 1, 0, 0, 0, 'w', 'h', 0, 's', '.'}, `the checkpoint is a dict of "w" (dict), and none is a state_dict`)
	// A million nested tuples built without MARK, alone and as an argument.
	// Decoding allocates per opcode, so these get a larger allowance.
	deep := append([]byte{0x80, 2, 'N'}, bytes.Repeat([]byte{0x85}, 1<<20)...)
	_, err := readWithin(t, "model.pth", makePth(t, append(deep, '.'), nil), Options{}, 64<<20)
	checkErr(t, err, "model.pth", "the pickle holds a tuple")
	od := new(pk).proto(2).global("collections", "OrderedDict").op('N')
	od.op(bytes.Repeat([]byte{0x85}, 1<<20)...).op(0x85, 'R', '.')
	_, err = readWithin(t, "model.pth", makePth(t, od.Bytes(), nil), Options{}, 64<<20)
	checkErr(t, err, "model.pth", "collections.OrderedDict(tuple): unexpected arguments")
	// A 64 KiB key set 100000 times through the memo: 6.5 GB of hashing
	// for a 400 KB pickle, stopped by the work bound.
	key := new(pk).proto(2).op('}', 'q', 1).str(strings.Repeat("k", 1<<16)).op('q', 0)
	key.op(bytes.Repeat([]byte{'h', 1, 'h', 0, 'N', 's', '0'}, 100000)...).op('.')
	pklErr(t, "model.pth", key.Bytes(), "dict keys cost more to hash than a")
	// The same through a memoized persistent id.
	pid := new(pk).proto(2).op('(').str("storage").global("torch", "FloatStorage").str(strings.Repeat("k", 1<<16)).str("cpu").int(1).op('t', 'q', 0)
	pid.op(bytes.Repeat([]byte{'h', 0, 'Q', '0'}, 100000)...).op('N', '.')
	pklErr(t, "model.pth", pid.Bytes(), "storage keys cost more to look up")
	// Memo amplification: one big list referenced 100000 times.
	amp := new(pk).proto(2).op(']', 'q', 0, '(')
	amp.op(bytes.Repeat([]byte{'h', 0}, 100000)...).op('l', '.')
	pklErr(t, "model.pth", amp.Bytes(), "the pickle holds a list")
}
