"""A load generator for a running site: paced API submissions by profile, each job
followed to its end, with a summary, JSON results and a chart."""
