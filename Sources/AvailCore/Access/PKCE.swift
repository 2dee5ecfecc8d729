import Crypto

/// Proof Key for Code Exchange (RFC 7636), S256: the verifier stays with availd, the
/// challenge goes to Calendly's authorize page, and only the holder of the verifier can
/// exchange the code.
public enum PKCE {
    /// 32 random bytes as unpadded base64url: 43 characters, within RFC 7636's 43...128.
    public static func verifier() -> String { Secret.generate(byteCount: 32) }

    /// `BASE64URL(SHA256(verifier))`, unpadded.
    public static func challenge(for verifier: String) -> String {
        Secret.base64URL(Array(SHA256.hash(data: Array(verifier.utf8))))
    }

    /// The SHA-256 of `text`, for values kept only by their hash (an OAuth `state`).
    public static func hash(_ text: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(text.utf8)))
    }
}
