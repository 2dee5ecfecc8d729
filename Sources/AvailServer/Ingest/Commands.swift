import AvailCore
import AvailStore
import Foundation

/// Appends availd's own events (source `api`) and answers once the read models include them,
/// so a command's response, and any read after it, shows its effect.
struct Commands: Sendable {
    let writer: LogWriter
    let progress: ProjectionProgress
    let waitTimeout: Duration

    /// Appends `event` and waits for it to be projected; returns its position.
    @discardableResult
    func record(_ event: ExpertEvent) async throws -> Int64 {
        try await record(stream: StreamName(category: "expert", id: event.expertID), type: event.type, body: event.encoded())
    }

    @discardableResult
    func record(_ event: AppointmentEvent) async throws -> Int64 {
        try await record(stream: StreamName(category: "appointment", id: event.appointmentID), type: event.type, body: event.encoded())
    }

    @discardableResult
    func record(stream: StreamName, type: String, body: Data) async throws -> Int64 {
        let outcome: AppendOutcome
        do {
            outcome = try await writer.append(NewEvent(
                stream: stream,
                type: type,
                source: .api,
                recordedAt: .now(),
                // Every command is a new event: a random key never collides with a delivery's.
                dedupeKey: DedupeKey(rawValue: "cmd:" + UUID().uuidString.lowercased()),
                body: body))
        } catch {
            throw Problem.unavailable("the change could not be stored; nothing was changed, retry later")
        }
        guard await progress.wait(for: outcome.position, timeout: waitTimeout) else {
            throw Problem.projectionLag(outcome.position)
        }
        return outcome.position
    }
}
