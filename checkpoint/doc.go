// Package checkpoint reads the weights of a trained network: the "load
// weights" stage of acgen's pipeline. It reads PyTorch .pth files (the zip
// format torch.save writes since torch 1.6, and the legacy format before
// it, in which many ACNet checkpoints are), safetensors files, and the
// HDF5 files the official ACNet code saves its final weights in (hdf5.go:
// h5py's datasets, read without cgo), and returns every tensor converted
// to float64 under a normalised key.
//
// # Normalisation
//
// A .pth may hold a state_dict directly, or a dict holding it under
// "state_dict" or "model" (the official ACNet scripts save {'model': ...};
// other keys such as 'epoch' and 'optimizer' are ignored). If every key
// starts with "module." (nn.DataParallel) that prefix is dropped. Keys
// ending in num_batches_tracked are dropped. Tensors that are not float16,
// bfloat16, float32 or float64 are kept with Data nil; a later stage errors
// only if it needs them.
//
// # Hostile files
//
// Checkpoints are downloaded from the internet, so every file is treated
// as hostile. Loading runs no pickle code: the pickle is decoded by
// internal/pickle, which builds plain Go values and asks this package's
// allowlist (torch.go) what each global name means. Only the names a
// state_dict uses resolve (collections.OrderedDict, the
// torch._utils._rebuild_* functions, torch.*Storage classes); anything
// else, os.system and copy_reg._reconstructor included, is refused by name.
// Every size and offset a file declares (zip directory sizes, storage
// element counts against zip entry sizes, a tensor's offset, size and
// stride against its storage, safetensors header length and data_offsets,
// dtype times shape against the byte range) is checked, with overflow
// checks, against the real file before anything is allocated from it, and
// the total is bounded by Options.MaxBytes. Errors are one line, name the
// file, and name the key where there is one.
//
// # Why not github.com/nlpodyssey/gopickle
//
// gopickle v0.2.0 was checked first, as the issue suggested, and found
// unsafe for untrusted input:
//
//   - Unpickler.read(n) does make([]byte, n) with n straight from the file
//     before checking that n bytes exist: a 19-byte pickle holding
//     BINUNICODE8 with length 2 GiB allocated 2 GiB, and FRAME with 3 GiB
//     allocated 3 GiB, before failing with EOF.
//   - its findClass resolves collections.OrderedDict, __builtin__.object
//     and copy_reg._reconstructor itself, before the FindClass hook is
//     consulted, so an allowlist hook cannot refuse them.
//   - its pytorch loader allocates a storage's declared element count
//     (make([]float32, size)) before reading the zip entry and never
//     compares it with the entry's size: a 4-byte entry declared as 2^28
//     floats allocated 1 GiB.
//   - SETITEMS with an odd number of items panics (index out of range).
//
// Fixing that meant replacing its reader, its class resolution and its
// storage loading, which is most of it; the decoder here is small because
// it only handles what state_dict pickles use.
//
// # Why not github.com/nlpodyssey/safetensors
//
// Its Deserialize does validate the header (length cap, contiguous
// data_offsets, overflow-checked shape products) and survived a short fuzz
// run, but its errors do not name the tensor ("info data offsets
// mismatch"), it refuses whole files holding dtypes it does not know
// (F8_E4M3, ...) instead of keeping them with Data nil, duplicated JSON
// keys silently overwrite each other, and it is an untagged module that
// brings testify into go.sum. The format takes about 150 lines with
// encoding/json (safetensors.go), so it is read here.
//
// # Why not an HDF5 library
//
// gonum.org/v1/hdf5 wraps the HDF5 C library through cgo, which acgen's
// users should not need to install, and the C library's own record on
// malformed files is long. No pure-Go reader was found that is both
// served by the module proxy and established (github.com/scigolib/hdf5,
// the one candidate, is not on the proxy this project builds from). The
// subset h5py writes for a dict of arrays (superblocks, object headers,
// symbol-table and link-message groups, contiguous, compact and chunked
// layouts, gzip, shuffle and fletcher32) is about 700 lines here, under
// the same bounds, truncation and mutation tests as the other formats.
package checkpoint
