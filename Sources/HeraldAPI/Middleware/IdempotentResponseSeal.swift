import Crypto
import Foundation

/// Seals the responses kept for `Idempotency-Key` replays (API.md §1). A kept response can hold
/// a secret shown only once (a new API key, API.md §2) or contacts' personal data, and the
/// database, its WAL, dumps and backups are no place for either in the clear. Each response is
/// sealed with AES-GCM under a key derived (HKDF-SHA256) from the caller's API key secret and the
/// Idempotency-Key; Herald stores only the secret's hash, so only a request bearing the same key
/// can open it again.
enum IdempotentResponseSeal {
    /// Marks a sealed body; rows kept before sealing existed are plain JSON and replay as they are.
    static let prefix = Array("hs1:".utf8)

    static func key(apiSecret: String, idempotencyKey: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: Data(apiSecret.utf8)), salt: Data("herald idempotent response".utf8),
                               info: Data(idempotencyKey.utf8), outputByteCount: 32)
    }

    static func seal(_ body: [UInt8], with key: SymmetricKey) throws -> [UInt8] {
        guard let combined = try AES.GCM.seal(body, using: key).combined else { throw CryptoKitError.incorrectParameterSize }
        return prefix + Array(combined)
    }

    /// The body, opened; nil when it was sealed under another key or altered.
    static func open(_ stored: [UInt8], with key: SymmetricKey) -> [UInt8]? {
        guard stored.starts(with: prefix) else { return stored }
        guard let box = try? AES.GCM.SealedBox(combined: stored.dropFirst(prefix.count)),
              let body = try? AES.GCM.open(box, using: key) else { return nil }
        return Array(body)
    }
}
