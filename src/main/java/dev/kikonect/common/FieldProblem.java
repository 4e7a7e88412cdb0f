package dev.kikonect.common;

/** One invalid field of a request: its JSON path (for example {@code trigger_config.interval_minutes}) and why. */
public record FieldProblem(String field, String reason) {}
