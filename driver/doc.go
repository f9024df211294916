// Package driver runs acgen's pipeline, stage by stage:
//
//	spec     parse net.yaml, infer shapes                  (packages spec, graph)
//	weights  load the checkpoint                           (package checkpoint)
//	graph    infer shapes, bind and check the weights      (package graph)
//	fuse     fold ACBlocks and BatchNorms into convolutions (package fuse)
//	check    run fused and unfused on random inputs        (package runtime/ref)
//	plan     choose layouts, kernels, buffers              (package plan)
//	emit     generate the Go and assembly files            (packages gen, asm)
//	write    [test the files,] replace the output package   (this package)
//
// The stages are listed once, in the stages table of driver.go; the
// command's -dump flag prints what any of them produced.
package driver
