ALTER TABLE workflows ADD COLUMN output text; -- a JSONata expression: what a run of this workflow answers the step that ran it (sub-workflows)
