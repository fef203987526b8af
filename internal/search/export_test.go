package search

// SearchSQL exposes the statement of a query to the benchmarks, which run it bare.
var SearchSQL = searchSQL
