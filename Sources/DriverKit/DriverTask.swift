/// Cancellation-aware helpers for driver methods.
///
/// DriverKit runs every request in its own task and cancels it when the host calls `cancel` or
/// `shutdown`. These helpers turn Swift's `CancellationError` into `CANCELLED`.
public enum DriverTask {
  /// Sleeps for `milliseconds`, waking early when the task is cancelled.
  /// - Throws: `CANCELLED` if the task is or becomes cancelled.
  public static func sleep(milliseconds: Int) async throws(DriverError) {
    guard milliseconds > 0 else {
      try checkCancellation()
      return
    }
    do {
      try await Task.sleep(nanoseconds: UInt64(milliseconds) * 1_000_000)
    } catch {
      throw .cancelled()
    }
  }

  /// Throws `CANCELLED` if the current task is cancelled.
  public static func checkCancellation() throws(DriverError) {
    if Task.isCancelled { throw .cancelled() }
  }
}

extension DriverRuntime {
  /// The `ping` response of the typed layers' default implementation.
  static func defaultPing() -> PingResponse {
    let registration = DriverRuntime.registration
    return PingResponse(driver: registration?.name ?? "", version: registration?.version ?? "")
  }
}
