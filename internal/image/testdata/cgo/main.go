// Command cgo is a dynamically linked binary for TestBuildRefusesDynamic.
package main

// int one(void) { return 1; }
import "C"

func main() { _ = C.one() }
