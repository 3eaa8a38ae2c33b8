// Package buildtags names the build tags every build of perimeter uses.
//
// kustomize/api links Go's plugin package to load exec and Go plugins,
// which perimeter never enables (it builds kustomize trees with plugins
// disabled). Linking plugin makes the linker export every symbol
// dynamically and keep every exported method: the binary grows by about
// 23 MB and any command starts with about 27 MB more resident pages (the
// dynamic symbol tables and the code they keep). kustomize's own
// kustomize_disable_go_plugin_support tag leaves plugin out.
package buildtags

// Tags is the -tags value for `go build` and `go install` of perimeter.
const Tags = "kustomize_disable_go_plugin_support"
