package graph

// RunConv is conv for the tests of package graph_test.
func RunConv(x Tensor, c *Conv) Tensor { return conv(x, c) }
