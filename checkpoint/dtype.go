package checkpoint

// dtype is an element type as both formats name it.
type dtype struct {
	name  string // Tensor.DType: torch's name
	size  int64  // bytes per element
	float bool   // converted to float64; other types keep Data nil
}

var (
	dtFloat32  = &dtype{"float32", 4, true}
	dtFloat64  = &dtype{"float64", 8, true}
	dtFloat16  = &dtype{"float16", 2, true}
	dtBFloat16 = &dtype{"bfloat16", 2, true}
)

// torchStorages maps the storage classes a pickle names (torch.FloatStorage,
// ...) to their element type. Only these names are allowed as globals from
// the torch module, so this table is also part of the pickle allowlist.
var torchStorages = map[string]*dtype{
	"FloatStorage":         dtFloat32,
	"DoubleStorage":        dtFloat64,
	"HalfStorage":          dtFloat16,
	"BFloat16Storage":      dtBFloat16,
	"LongStorage":          {"int64", 8, false},
	"IntStorage":           {"int32", 4, false},
	"ShortStorage":         {"int16", 2, false},
	"CharStorage":          {"int8", 1, false},
	"ByteStorage":          {"uint8", 1, false},
	"BoolStorage":          {"bool", 1, false},
	"ComplexFloatStorage":  {"complex64", 8, false},
	"ComplexDoubleStorage": {"complex128", 16, false},
	"QInt8Storage":         {"qint8", 1, false},
	"QUInt8Storage":        {"quint8", 1, false},
	"QInt32Storage":        {"qint32", 4, false},
}

// safetensorsDTypes maps the dtype strings of a safetensors header.
var safetensorsDTypes = map[string]*dtype{
	"F32":     dtFloat32,
	"F64":     dtFloat64,
	"F16":     dtFloat16,
	"BF16":    dtBFloat16,
	"I64":     torchStorages["LongStorage"],
	"I32":     torchStorages["IntStorage"],
	"I16":     torchStorages["ShortStorage"],
	"I8":      torchStorages["CharStorage"],
	"U8":      torchStorages["ByteStorage"],
	"BOOL":    torchStorages["BoolStorage"],
	"U16":     {"uint16", 2, false},
	"U32":     {"uint32", 4, false},
	"U64":     {"uint64", 8, false},
	"F8_E4M3": {"float8_e4m3fn", 1, false},
	"F8_E5M2": {"float8_e5m2", 1, false},
	"C64":     torchStorages["ComplexFloatStorage"],
}
