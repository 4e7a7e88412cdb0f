package dev.kikonect.db;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** A second start on a data directory in use: one paragraph saying who holds it, not a stack trace. */
class DataDirInUseFailureAnalyzer extends AbstractFailureAnalyzer<DataDirLock.InUse> {

  @Override
  protected FailureAnalysis analyze(Throwable rootFailure, DataDirLock.InUse cause) {
    return new FailureAnalysis(cause.getMessage(), "Stop the running KiKonect, or give this one its own --kikonect.data-dir.", cause);
  }
}
