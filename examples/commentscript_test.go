package examples

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// fakeGH stands in for the gh CLI: it logs each call (and the body it is
// given), answers the pull request's head commit, and lists the comments
// of comments.json through the caller's --jq filter, as gh does.
const fakeGH = `#!/bin/bash
echo "$*" >> "$LOG"
case "$1 $2 $3" in
  "api repos/o/r/pulls/7 --jq") echo "$PR_HEAD" ;;
  "api --paginate repos/o/r/issues/7/comments") jq -r "$5" "$COMMENTS" ;;
  "api -X PATCH"|"api -X POST") jq -r .body >> "$LOG" ;;
esac
`

// TestCommentScript runs the comment step of perimeter-comment.yaml with
// a fake gh against earlier comments: the bot's comments are updated in
// place by marker, a part no longer needed is deleted, and a comment by
// someone else that carries a marker is left alone.
func TestCommentScript(t *testing.T) {
	if _, err := exec.LookPath("jq"); err != nil {
		// CI must run it (the machine has Debian's jq): never a silent skip
		if os.Getenv("CI") == "true" {
			t.Fatal("needs jq (GitHub's runners have it; apt-get install jq)")
		}
		t.Skip("needs jq (GitHub's runners have it; apt-get install jq)")
	}
	script := commentStep(t)
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("bin/gh", fakeGH)
	write("plan/pr-number", "7\n")
	write("plan/prod.md", "prod one\n"+partSeparator+"prod two\n"+partSeparator+"prod three\n")
	write("plan/staging.md", "staging only\n")
	write("comments.json", `[
  {"id": 100, "user": {"login": "github-actions[bot]"}, "body": "<!-- perimeter-plan:prod -->\nold"},
  {"id": 101, "user": {"login": "github-actions[bot]"}, "body": "<!-- perimeter-plan:prod part 5 -->\nold"},
  {"id": 102, "user": {"login": "mallory"}, "body": "<!-- perimeter-plan:staging -->\nmine"},
  {"id": 103, "user": {"login": "github-actions[bot]"}, "body": "<!-- perimeter-plan:prod part 2 -->\nold"}
]`)
	log := runScript(t, dir, script, "abc")
	for _, want := range []string{
		"api -X PATCH repos/o/r/issues/comments/100 --input -\n<!-- perimeter-plan:prod -->\nprod one\n",
		"api -X PATCH repos/o/r/issues/comments/103 --input -\n<!-- perimeter-plan:prod part 2 -->\nprod two\n",
		"api -X POST repos/o/r/issues/7/comments --input -\n<!-- perimeter-plan:prod part 3 -->\nprod three\n",
		"api -X DELETE repos/o/r/issues/comments/101\n",
		"api -X POST repos/o/r/issues/7/comments --input -\n<!-- perimeter-plan:staging -->\nstaging only\n",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("gh was not called with\n%s", want)
		}
	}
	if strings.Contains(log, "comments/102") {
		t.Error("the script touched someone else's comment")
	}
	if t.Failed() {
		t.Logf("gh calls:\n%s", log)
	}
	if log := runScript(t, dir, script, "other"); strings.Contains(log, "-X ") {
		t.Errorf("the script wrote although the pull request moved on:\n%s", log)
	}
}

// commentStep returns the script of the step of perimeter-comment.yaml
// that posts the comments.
func commentStep(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("github", "perimeter-comment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct{ Steps []struct{ Run string } }
	}
	if err := yaml.Unmarshal(src, &wf); err != nil {
		t.Fatal(err)
	}
	for _, s := range wf.Jobs["comment"].Steps {
		if strings.Contains(s.Run, "perimeter-plan:") {
			return s.Run
		}
	}
	t.Fatal("perimeter-comment.yaml: no step posts the comments")
	return ""
}

// runScript runs script in dir as GitHub runs a bash step, with the pull
// request at head, and returns gh's log. A failing script is fine when
// the head is not the planned commit "abc".
func runScript(t *testing.T, dir, script, head string) string {
	t.Helper()
	logFile := filepath.Join(dir, "gh.log")
	os.Remove(logFile)
	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"PATH="+filepath.Join(dir, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"),
		"LOG="+logFile, "COMMENTS="+filepath.Join(dir, "comments.json"),
		"PR_HEAD="+head, "HEAD_SHA=abc", "REPO=o/r", "GH_TOKEN=x")
	out, err := cmd.CombinedOutput()
	if err != nil && head == "abc" {
		t.Fatalf("the comment script failed: %v\n%s", err, out)
	}
	log, _ := os.ReadFile(logFile)
	return string(log)
}
