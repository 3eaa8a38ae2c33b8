package generate

import (
	"regexp"
	"strconv"

	"go.yaml.in/yaml/v3"
)

var pathStep = regexp.MustCompile(`([^.\[\]]+)|\[(\d+)\]`)

// yamlLine returns the line (from 1) in the YAML document src of the field
// an API validation error names ("spec.ingress[0].from[1].ipBlock.cidr"),
// or of the deepest part of that path src holds (for a missing field); 0
// when src is not one YAML document.
func yamlLine(src, path string) int {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil || doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return 0
	}
	node := doc.Content[0]
	for _, step := range pathStep.FindAllStringSubmatch(path, -1) {
		next := (*yaml.Node)(nil)
		switch {
		case step[1] != "" && node.Kind == yaml.MappingNode:
			for i := 0; i+1 < len(node.Content); i += 2 {
				if node.Content[i].Value == step[1] {
					next = node.Content[i+1]
				}
			}
		case step[2] != "" && node.Kind == yaml.SequenceNode:
			if i, err := strconv.Atoi(step[2]); err == nil && i < len(node.Content) {
				next = node.Content[i]
			}
		}
		if next == nil {
			break
		}
		node = next
	}
	return node.Line
}
