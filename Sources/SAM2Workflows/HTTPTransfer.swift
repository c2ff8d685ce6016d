// HTTPTransfer: the two requests a model download makes, through Foundation's URLSession (libcurl
// underneath on Linux): a HEAD that stops at the first redirect leaving the host (the Hub puts a
// file's commit, SHA-256 and size on that redirect), and a GET that appends to a partial file,
// resuming it with a Range request, with progress. Proxies come from the environment as libcurl reads
// them (http_proxy, https_proxy / HTTPS_PROXY, all_proxy, no_proxy; not the upper-case HTTP_PROXY).

import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A response's status, the URL that gave it and its headers (names in lower case).
struct HTTPHead: Sendable {
    var status: Int
    var url: URL
    var headers: [String: String]

    init(_ response: HTTPURLResponse) {
        status = response.statusCode
        url = response.url ?? URL(fileURLWithPath: "/")
        headers = [:]
        for (name, value) in response.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
    }

    func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// Why a transfer failed, before the caller names the model and the paths.
enum TransferError: Error {
    /// No response at all: no route, refused, unknown host, timed out (libcurl's words).
    case noResponse(String)
    /// An HTTP status other than the one expected.
    case status(HTTPHead)
    /// The body stopped; `received` bytes of `total` are in the partial file.
    case interrupted(received: Int64, total: Int64?, reason: String)
    /// The server's length differs from the one announced beforehand (the Hub's X-Linked-Size).
    case lengthMismatch(expected: Int64, announced: Int64)
    case notEnoughSpace(needed: Int64, available: Int64)
    case cannotWrite(String)
}

enum HTTPTransfer {
    /// Attempts of one download: after a break that still brought bytes, the next resumes at once.
    static let attempts = 5
    /// Seconds without a byte before a request is given up.
    static let idleTimeout: TimeInterval = 30

    /// HEAD `url`, following redirects only while they stay on its host.
    static func head(_ url: URL) throws(TransferError) -> HTTPHead {
        let delegate = TaskDelegate()
        delegate.followRedirect = { response, request in
            request.url?.host == url.host && request.url?.port == url.port
        }
        var request = URLRequest(url: url)
        request.httpMethod = "HEAD"
        request.setValue("identity", forHTTPHeaderField: "Accept-Encoding")
        delegate.run(request)
        if let head = delegate.head { return head }
        throw .noResponse(reason(delegate.error))
    }

    /// GET `url` into `partial`, appending to what it already holds (a Range request; a server that
    /// answers 200 instead restarts it) and retrying after a break while bytes keep coming. Returns
    /// when the body is whole (`expectedSize`, when known, must match the server's length), with the
    /// file's SHA-256 when `sha256` is asked for — hashed as the bytes arrive, so that it costs no time
    /// after the download (a part from an earlier run is hashed from the disk first).
    @discardableResult
    static func download(
        _ url: URL, to partial: URL, expectedSize: Int64?, sha256: Bool = false,
        progress: @escaping @Sendable (Int64, Int64?) -> Void
    ) throws(TransferError) -> String? {
        var restartedAfter416 = false
        var attempt = 0
        var hashed: (hash: SHA256, bytes: Int64)?
        while true {
            attempt += 1
            var offset = fileSize(partial) ?? 0
            if let expectedSize, offset > expectedSize {
                unlink(partial.path)
                offset = 0
            }
            if sha256 && hashed?.bytes != offset {
                hashed = (try hashPrefix(of: partial, bytes: offset), offset)
            }
            if let expectedSize, offset == expectedSize { return hashed.map { digest($0.hash) } }
            let body = BodyWriter(
                partial: partial, offset: offset, expectedSize: expectedSize, hash: hashed?.hash, progress: progress)
            let delegate = TaskDelegate()
            delegate.onResponse = body.accept
            delegate.onData = body.append
            var request = URLRequest(url: url)
            request.setValue("identity", forHTTPHeaderField: "Accept-Encoding")
            if offset > 0 { request.setValue("bytes=\(offset)-", forHTTPHeaderField: "Range") }
            delegate.run(request)
            body.finish()
            if let hash = body.hash, body.accepted { hashed = (hash, body.offset + body.received) }
            if let failure = body.failure {
                if case .status(let head) = failure, head.status == 416, !restartedAfter416 {
                    // The part is as long as the file or longer (it changed): start again.
                    restartedAfter416 = true
                    unlink(partial.path)
                    continue
                }
                throw failure
            }
            if let error = delegate.error {
                guard delegate.head != nil || attempt > 1 else { throw .noResponse(reason(error)) }
                if body.received > 0 && attempt < attempts { continue }
                throw .interrupted(received: fileSize(partial) ?? 0, total: body.total, reason: reason(error))
            }
            let size = fileSize(partial) ?? 0
            if let total = body.total, size != total {
                throw .interrupted(received: size, total: total, reason: "the body ended early")
            }
            guard sha256 else { return nil }
            if hashed?.bytes != size { hashed = (try hashPrefix(of: partial, bytes: size), size) }
            return digest(hashed!.hash)
        }
    }

    private static func digest(_ hash: SHA256) -> String {
        var hash = hash
        return hash.hexDigest()
    }

    /// The SHA-256 state after the first `bytes` bytes of `url`.
    private static func hashPrefix(of url: URL, bytes: Int64) throws(TransferError) -> SHA256 {
        var hash = SHA256()
        guard bytes > 0 else { return hash }
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            var left = bytes
            while left > 0, let chunk = try handle.read(upToCount: Int(min(left, 4 << 20))), !chunk.isEmpty {
                hash.update(chunk)
                left -= Int64(chunk.count)
            }
        } catch {
            throw .cannotWrite("cannot read it back: \(error)")
        }
        return hash
    }

    static func fileSize(_ url: URL) -> Int64? {
        var info = stat()
        return stat(url.path, &info) == 0 ? Int64(info.st_size) : nil
    }

    /// libcurl's own words for a failure ("Failed to connect to …", "Could not resolve host: …").
    static func reason(_ error: Error?) -> String {
        guard let error else { return "no response" }
        let text = (error as NSError).localizedDescription
        return text.isEmpty ? String(describing: error) : text
    }
}

/// Writes a GET's body into the partial file: checks the status and the range, the room on the disk,
/// and reports progress. Used on the session's serial delegate queue only.
private final class BodyWriter: @unchecked Sendable {
    let partial: URL
    var offset: Int64
    let expectedSize: Int64?
    let progress: @Sendable (Int64, Int64?) -> Void
    var total: Int64?
    var received: Int64 = 0
    var failure: TransferError?
    /// The SHA-256 of the part so far, when one is computed.
    var hash: SHA256?
    /// True once the response was taken (the part then holds `offset + received` bytes).
    var accepted = false
    private var fd: Int32 = -1

    init(
        partial: URL, offset: Int64, expectedSize: Int64?, hash: SHA256?,
        progress: @escaping @Sendable (Int64, Int64?) -> Void
    ) {
        self.partial = partial
        self.offset = offset
        self.expectedSize = expectedSize
        self.hash = hash
        self.progress = progress
        total = expectedSize
    }

    /// Takes the response: true to receive its body.
    func accept(_ head: HTTPHead) -> Bool {
        switch head.status {
        case 200:
            offset = 0  // a whole file: whatever the part held is replaced
            if hash != nil { hash = SHA256() }
            if let length = head.header("Content-Length").flatMap({ Int64($0) }) { total = length }
        case 206:
            // Content-Range: bytes START-END/TOTAL, START where the part ends.
            let range = head.header("Content-Range") ?? ""
            let numbers = range.dropFirst("bytes ".count).split(whereSeparator: { $0 == "-" || $0 == "/" })
            guard range.hasPrefix("bytes "), numbers.count == 3, let start = Int64(numbers[0]), start == offset,
                let length = Int64(numbers[2])
            else {
                failure = .interrupted(
                    received: offset, total: total, reason: "the server answered the range with '\(range)'")
                return false
            }
            total = length
        default:
            failure = .status(head)
            return false
        }
        if let expectedSize, let total, total != expectedSize {
            failure = .lengthMismatch(expected: expectedSize, announced: total)
            return false
        }
        if let total, let available = Self.availableBytes(in: partial.deletingLastPathComponent()),
            available < total - offset
        {
            failure = .notEnoughSpace(needed: total - offset, available: available)
            return false
        }
        fd = open(partial.path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0, ftruncate(fd, off_t(offset)) == 0, lseek(fd, off_t(offset), SEEK_SET) == offset else {
            failure = .cannotWrite(String(cString: strerror(errno)))
            return false
        }
        accepted = true
        progress(offset, total)
        return true
    }

    /// Appends a piece of the body: false (the transfer stops) when it cannot be written.
    func append(_ data: Data) -> Bool {
        let written = data.withUnsafeBytes { bytes -> Bool in
            var done = 0
            while done < bytes.count {
                let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                done += n
            }
            return true
        }
        guard written else {
            failure = .cannotWrite(String(cString: strerror(errno)))
            return false
        }
        received += Int64(data.count)
        hash?.update(data)
        progress(offset + received, total)
        return true
    }

    func finish() {
        if fd >= 0 {
            fsync(fd)
            close(fd)
            fd = -1
        }
    }

    static func availableBytes(in folder: URL) -> Int64? {
        var info = statvfs()
        guard statvfs(folder.path, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }
}

/// One request through its own URLSession, waited for: the delegate's callbacks run one at a time on
/// the session's queue; `run` returns when the task completed.
private final class TaskDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    var followRedirect: (HTTPURLResponse, URLRequest) -> Bool = { _, _ in true }
    var onResponse: (HTTPHead) -> Bool = { _ in true }
    var onData: (Data) -> Bool = { _ in true }
    private(set) var head: HTTPHead?
    private(set) var error: Error?
    private var cancelled = false
    private let finished = DispatchSemaphore(value: 0)

    func run(_ request: URLRequest) {
        var request = request
        request.timeoutInterval = HTTPTransfer.idleTimeout
        request.cachePolicy = .reloadIgnoringLocalCacheData
        let configuration = URLSessionConfiguration.default
        configuration.urlCache = nil  // never keep a checkpoint in Foundation's URL cache
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        configuration.urlCredentialStorage = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.timeoutIntervalForRequest = HTTPTransfer.idleTimeout
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: configuration, delegate: self, delegateQueue: queue)
        session.dataTask(with: request).resume()
        finished.wait()
        session.finishTasksAndInvalidate()
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        // Not following makes the redirect itself the response.
        completionHandler(followRedirect(response, request) ? request : nil)
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void
    ) {
        guard let http = response as? HTTPURLResponse else {
            cancelled = true
            completionHandler(.cancel)
            return
        }
        let head = HTTPHead(http)
        self.head = head
        let accepted = onResponse(head)
        cancelled = !accepted
        completionHandler(accepted ? .allow : .cancel)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard !cancelled else { return }
        if !onData(data) {
            cancelled = true
            dataTask.cancel()
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if !cancelled { self.error = error }
        finished.signal()
    }
}
