import Foundation

/// What a caller may name an expert: it becomes part of URLs and of a stream name.
enum ExpertID {
    static func validate(_ text: String) throws -> String {
        let allowed = text.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || scalar == "-" || scalar == "_")
        }
        guard (1...64).contains(text.utf8.count), allowed else {
            throw Problem.invalidParameter("id", "an expert id is 1 to 64 ASCII letters, digits, '-' or '_'")
        }
        return text
    }
}
