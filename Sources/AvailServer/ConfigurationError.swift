/// Options that do not make a working daemon, refused before it starts.
public enum ConfigurationError: Error, CustomStringConvertible {
    case invalid(String)

    public var description: String {
        switch self {
        case .invalid(let reason): "invalid configuration: \(reason)"
        }
    }
}
