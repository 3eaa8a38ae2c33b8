package main

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"

	"github.com/perimeter-dev/perimeter/hclspec"
)

// completeEnvironments completes --env with the environments the intent in
// the command's DIR declares.
func completeEnvironments(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	src, diags := hclspec.ReadDirMax(dirArg(args), maxFileSize)
	if diags.HasErrors() {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return hclspec.EnvironmentNames(src), cobra.ShellCompDirectiveNoFileComp
}

// completeEndpoints completes --from and --to with the intent's
// addressable blocks: service.NAME, namespace.NAME, gateway.NAME.
func completeEndpoints(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	src, diags := hclspec.ReadDirMax(dirArg(args), maxFileSize)
	if diags.HasErrors() {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, name := range src.Names() {
		body := src.Files()[name].Body
		content, _, _ := body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
			{Type: "service", LabelNames: []string{"name"}},
			{Type: "namespace", LabelNames: []string{"name"}},
			{Type: "gateway", LabelNames: []string{"name"}},
		}})
		for _, b := range content.Blocks {
			if addr := b.Type + "." + b.Labels[0]; strings.HasPrefix(addr, toComplete) {
				out = append(out, addr)
			}
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
