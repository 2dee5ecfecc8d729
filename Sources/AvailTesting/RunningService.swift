import Logging
import ServiceLifecycle

/// Runs `service` in a service group for the length of `body`, then shuts it down gracefully
/// and waits for it to stop.
public func withRunning<T: Sendable>(_ service: some Service, _ body: () async throws -> T) async throws -> T {
    let group = ServiceGroup(services: [service], logger: Logger(label: "test"))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        let result = try await body()
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
        return result
    }
}
