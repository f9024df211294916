// Package pickle decodes the subset of Python's pickle format that a
// PyTorch state_dict is written in, without running any of it.
//
// It is a data decoder, not a virtual machine for Python: the pickle's
// stack operations build Go values (Tuple, *List, *Dict, strings, int64,
// float64, []byte, nil for None), and every opcode that would make Python
// import or call something (GLOBAL, STACK_GLOBAL, REDUCE, BUILD, NEWOBJ,
// PERSID) is handed to a Hooks value that decides, by name, what the one
// allowed meaning is, or refuses. Opcodes a state_dict never needs (INST,
// OBJ, EXT*, sets, out-of-band buffers) are refused outright.
//
// The input is hostile, so the decoder works on a byte slice already in
// memory and checks every length the pickle declares against the bytes
// actually left before it allocates or slices anything. The stack and memo
// grow by at most one entry per opcode byte, so they are bounded by the
// input's size; MARK nesting is bounded by MaxDepth; integers are bounded
// by MaxLongBytes. Every opcode costs time and memory in proportion to the
// bytes it consumes, except hashing a dict key, which the memo can make
// repeat for a huge key at two bytes a time: that is bounded by
// WorkPerByte. Values can still be cyclic (a list appended to itself
// through the memo) or deeply nested (TUPLE1 applied a million times), so
// callers must never walk a decoded value recursively or print it with %v:
// look one level at a time and describe values by TypeName.
package pickle
