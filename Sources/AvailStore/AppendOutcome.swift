/// What the log did with one event.
public enum AppendOutcome: Sendable, Equatable {
    /// Stored at `position`, durably.
    case appended(position: Int64)
    /// Seen before: the first copy is at `position`; nothing was stored.
    case duplicate(position: Int64)

    public var position: Int64 {
        switch self {
        case .appended(let position), .duplicate(let position): position
        }
    }

    public var isDuplicate: Bool {
        if case .duplicate = self { return true }
        return false
    }
}
