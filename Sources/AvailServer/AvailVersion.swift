/// availd's version, as `availd --version` prints it and `availd_build_info` labels it.
public enum AvailVersion {
    public static let current = "0.11.0"

    /// The compiler this binary was built with.
    public static var swift: String {
        #if compiler(>=6.3)
        "6.3"
        #elseif compiler(>=6.2)
        "6.2"
        #else
        "6.1"
        #endif
    }
}
