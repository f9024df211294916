// Package layerreport measures where a generated package spends its time,
// layer by layer: it runs the package's BenchmarkLayers in a scratch
// module and pairs each step's time with what the plan says it computes.
// It prints the result as a table, or draws it as a self-contained SVG or
// HTML chart. acgen -report and bench/report use it.
package layerreport
