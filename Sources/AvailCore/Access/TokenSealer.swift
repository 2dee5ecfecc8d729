import Crypto
import Foundation

/// Seals secrets at rest (Calendly tokens, PKCE verifiers) with AES-256-GCM.
///
/// The key is derived with HKDF-SHA256 from the daemon's secret key (`--secret-key`, or the
/// one created beside the database), so any long random string serves. Each sealed value is
/// bound to its context (`aad`, e.g. the expert and the Calendly user it belongs to): a sealed
/// blob copied to another row does not open there.
public struct TokenSealer: Sendable {
    /// The derived key's bytes (`SymmetricKey` is not `Sendable`).
    private let keyBytes: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    /// The shortest secret key accepted, in characters.
    public static let minimumSecretLength = 32

    public init(secretKey: String) throws(SealingError) {
        guard secretKey.utf8.count >= Self.minimumSecretLength else {
            throw .weakKey("the secret key must be at least \(Self.minimumSecretLength) characters")
        }
        let derived = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Array(secretKey.utf8)),
            salt: Array("availd token sealing".utf8), info: Array("v1".utf8), outputByteCount: 32)
        keyBytes = derived.withUnsafeBytes { Array($0) }
    }

    /// Nonce, ciphertext and tag in one blob.
    public func seal(_ plaintext: Data, context aad: String) throws(SealingError) -> Data {
        do {
            guard let combined = try AES.GCM.seal(plaintext, using: key, authenticating: Array(aad.utf8)).combined else {
                throw SealingError.unreadable("AES-GCM gave no combined form")
            }
            return combined
        } catch let error as SealingError {
            throw error
        } catch {
            throw .unreadable("\(error)")
        }
    }

    /// The plaintext of `sealed`; fails if the key, the context or a single byte differs.
    public func open(_ sealed: Data, context aad: String) throws(SealingError) -> Data {
        do {
            return try AES.GCM.open(try AES.GCM.SealedBox(combined: sealed), using: key, authenticating: Array(aad.utf8))
        } catch {
            throw .unreadable("a sealed secret does not open with this key (was --secret-key changed?)")
        }
    }
}

public enum SealingError: Error, Sendable, Equatable, CustomStringConvertible {
    case weakKey(String)
    case unreadable(String)

    public var description: String {
        switch self {
        case .weakKey(let why), .unreadable(let why): why
        }
    }
}
