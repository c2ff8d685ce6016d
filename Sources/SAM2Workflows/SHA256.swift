// SHA256: the SHA-256 digest of bytes fed in pieces, through OpenSSL's libcrypto, to check a download
// against the checksum the Hugging Face Hub announces (an LFS file's ETag is its SHA-256) and to name
// cache blobs.

import CCrypto
import Foundation

public struct SHA256 {
    /// The digest's state; copied before a change when shared (a value type over a C context).
    private final class Context {
        let pointer: OpaquePointer

        init() {
            guard let context = sam2_sha256_new() else { fatalError("SHA256: libcrypto is out of memory") }
            pointer = context
        }

        init(copying other: Context) {
            guard let context = EVP_MD_CTX_new(), EVP_MD_CTX_copy_ex(context, other.pointer) == 1 else {
                fatalError("SHA256: libcrypto is out of memory")
            }
            pointer = context
        }

        deinit { EVP_MD_CTX_free(pointer) }
    }

    private var context = Context()

    public init() {}

    private mutating func unique() -> OpaquePointer {
        if !isKnownUniquelyReferenced(&context) { context = Context(copying: context) }
        return context.pointer
    }

    /// Adds `bytes` to the message.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        EVP_DigestUpdate(unique(), base, bytes.count)
    }

    public mutating func update(_ data: Data) {
        data.withUnsafeBytes { update($0) }
    }

    /// The digest as 64 lowercase hexadecimal digits (the message ends here).
    public mutating func hexDigest() -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        EVP_DigestFinal_ex(unique(), &digest, &length)
        return digest.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
    }

    /// The digest of `data` as 64 lowercase hexadecimal digits.
    public static func hexDigest(_ data: Data) -> String {
        var hash = SHA256()
        hash.update(data)
        return hash.hexDigest()
    }
}
