package plan

// SetBeforeSummary sets a hook run before the boundary summary reads the
// live objects, and returns a function restoring the previous one.
func SetBeforeSummary(f func()) func() {
	old := beforeSummary
	beforeSummary = f
	return func() { beforeSummary = old }
}
