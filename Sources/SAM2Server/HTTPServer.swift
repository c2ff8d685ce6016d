// HTTPServer: a small HTTP/1.1 server on GNU libmicrohttpd (through CMicroHTTPD). A few polling
// threads read requests and write responses; each complete request is handed to a handler on a
// worker thread while its connection is suspended, so idle and slow connections hold no thread.
// Request bodies are capped in size. Knows nothing about SAM.

import CMicroHTTPD
import Foundation

/// A complete request: method, URL-decoded path, query arguments (URL-decoded), headers, body.
public struct HTTPRequest: Sendable {
    public var method: String
    public var path: String
    public var body: Data
    private let arguments: [String: String]
    private let headers: [String: String]
    /// Whether the client has left (closed its connection) while the request is being answered.
    public var clientGone: @Sendable () -> Bool = { false }

    /// A request with the query arguments and headers given (the first of a repeated name counts),
    /// as libmicrohttpd hands them over; also how the server's fuzz target routes requests in process.
    package init(
        method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:],
        body: Data = Data()
    ) {
        self.method = method
        self.path = path
        self.body = body
        arguments = query
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }) { first, _ in first }
    }

    /// A copy of what libmicrohttpd received, usable after the callback returns.
    fileprivate init(_ r: sam2_http_request) {
        func values(query: Bool) -> [(String, String)] {
            var names = [UnsafePointer<CChar>?](repeating: nil, count: 64)
            var values = names
            var count = sam2_http_values(r.connection, query ? 1 : 0, &names, &values, names.count)
            if count > names.count {
                names = [UnsafePointer<CChar>?](repeating: nil, count: count)
                values = names
                count = sam2_http_values(r.connection, query ? 1 : 0, &names, &values, names.count)
            }
            return (0..<min(count, names.count)).map { (String(cString: names[$0]!), String(cString: values[$0]!)) }
        }
        self.init(
            method: String(cString: r.method), path: String(cString: r.path),
            query: Dictionary(values(query: true)) { first, _ in first },
            headers: Dictionary(values(query: false).map { ($0.0.lowercased(), $0.1) }) { first, _ in first },
            body: r.body.map { Data(bytes: $0, count: r.body_length) } ?? Data())
    }

    /// A query argument (URL-decoded), or nil.
    public func query(_ name: String) -> String? { arguments[name] }

    /// A request header (names compare without case), or nil.
    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: Data
    /// One extra header (name, value), e.g. Server-Timing.
    public var header: (name: String, value: String)?

    public init(status: Int = 200, contentType: String, body: Data, header: (name: String, value: String)? = nil) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.header = header
    }
}

public enum HTTPServerError: Error, CustomStringConvertible {
    case invalidHost(String)
    case cannotListen(host: String, port: Int, reason: String)

    public var description: String {
        switch self {
        case .invalidHost(let host):
            return "--host '\(host)' is not an IPv4 or IPv6 address (e.g. 127.0.0.1, 0.0.0.0 or ::1)"
        case .cannotListen(let host, let port, let reason): return "cannot listen on \(host):\(port): \(reason)"
        }
    }
}

public final class HTTPServer: @unchecked Sendable {
    public typealias Handler = @Sendable (_ request: HTTPRequest, _ bodyTooLarge: Bool) -> HTTPResponse

    /// How many connections, threads and bytes the server gives its clients.
    public struct Limits: Sendable {
        /// Connections open at once; more are closed as soon as they are accepted.
        public var connections = 1024
        /// Connections open at once from one address (0: no such limit; on loopback every client
        /// shares one address).
        public var connectionsPerAddress = 0
        /// Seconds without traffic after which a connection is closed (suspended ones excepted).
        public var idleSeconds = 30
        /// Bytes of request line and headers per connection; more is answered 431 or 414.
        public var headerBytes = 64 << 10
        /// Threads polling the sockets.
        public var pollingThreads = 2
        /// Requests handled at once; later ones wait their turn in order.
        public var handlerThreads = 64

        public init() {}
    }

    private let handler: Handler
    private let daemon: UnsafeMutablePointer<sam2_http_daemon>
    private let workers: RequestWorkers
    /// The port listened on (the one picked when 0 was asked for).
    public private(set) var port = 0

    /// Starts listening on host:port (port 0: any free port); bodies over `maxBodyBytes` are refused.
    public init(
        host: String, port: Int, maxBodyBytes: Int, limits: Limits = Limits(), handler: @escaping Handler
    ) throws {
        self.handler = handler
        workers = RequestWorkers(maximum: max(1, limits.handlerThreads))
        daemon = .allocate(capacity: 1)
        daemon.initialize(to: sam2_http_daemon())
        var storage = sockaddr_storage()
        let ipv6: Bool
        if var a4 = Self.ipv4(host, port: port) {
            withUnsafeBytes(of: &a4) { src in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: src) } }
            ipv6 = false
        } else if var a6 = Self.ipv6(host, port: port) {
            withUnsafeBytes(of: &a6) { src in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: src) } }
            ipv6 = true
        } else {
            throw HTTPServerError.invalidHost(host)
        }
        daemon.pointee.handler = { context, request in
            let server = Unmanaged<HTTPServer>.fromOpaque(context!).takeUnretainedValue()
            return server.answer(request!.pointee)
        }
        daemon.pointee.context = Unmanaged.passUnretained(self).toOpaque()
        daemon.pointee.max_body = maxBodyBytes
        let connections = Self.allowOpenFiles(for: max(1, limits.connections))
        let status = withUnsafePointer(to: &storage) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sam2_http_start(
                    daemon, $0, ipv6 ? 1 : 0, UInt32(connections), UInt32(max(0, limits.connectionsPerAddress)),
                    UInt32(max(0, limits.idleSeconds)), UInt32(max(1, limits.pollingThreads)),
                    max(4096, limits.headerBytes))
            }
        }
        guard status == 0 else {
            let reason =
                errno == 0 ? "libmicrohttpd could not start (is the port in use?)" : String(cString: strerror(errno))
            throw HTTPServerError.cannotListen(host: host, port: port, reason: reason)
        }
        self.port = Int(sam2_http_port(daemon))
    }

    deinit {
        stop()
        daemon.deallocate()
    }

    /// Stops listening: requests arriving from now on get a 503, those in flight are answered first.
    public func stop() {
        workers.close()
        sam2_http_stop(daemon)
    }

    /// Runs on a polling thread: copies the request and hands it to a worker, the connection
    /// suspended meanwhile (an oversized body's 413 and the 503 of a stopping server are answered here).
    private func answer(_ r: sam2_http_request) -> MHD_Result {
        let connection = Connection(r.connection!)
        let request = {
            var request = HTTPRequest(r)
            request.clientGone = { sam2_http_client_gone(connection.pointer) != 0 }
            return request
        }()
        if r.body_too_large != 0 {
            return connection.send(handler(request, true))
        }
        let handler = self.handler
        let job: @Sendable () -> Void = {
            _ = connection.send(handler(request, false))
            sam2_http_resume(connection.pointer)
        }
        let queued = workers.submit(job, before: { sam2_http_suspend(connection.pointer) })
        return queued ? sam2_http_yes() : connection.send(Self.stopping)
    }

    private static let stopping = HTTPResponse(
        status: 503, contentType: "application/json", body: Data(#"{"error":"the server is stopping"}"#.utf8))

    /// A libmicrohttpd connection handed from the polling thread to a worker while it is suspended.
    private struct Connection: @unchecked Sendable {
        let pointer: OpaquePointer
        init(_ pointer: OpaquePointer) { self.pointer = pointer }

        /// Queues `response` (sent when the connection is polled again).
        func send(_ response: HTTPResponse) -> MHD_Result {
            response.body.withUnsafeBytes { body in
                sam2_http_respond(
                    pointer, UInt32(response.status), response.contentType, body.baseAddress, body.count,
                    response.header?.name, response.header?.value)
            }
        }
    }

    /// The connection limit the process can hold: the soft limit of open files is raised towards
    /// `connections` plus room for the files the server reads (the hard limit permitting).
    private static func allowOpenFiles(for connections: Int) -> Int {
        let room = 256
        #if canImport(Glibc)
            let files = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
            let files = RLIMIT_NOFILE
        #endif
        var limit = rlimit()
        guard getrlimit(files, &limit) == 0 else { return connections }
        let wanted = rlim_t(connections + room)
        if limit.rlim_cur < wanted {
            limit.rlim_cur = min(wanted, limit.rlim_max)
            _ = setrlimit(files, &limit)
            _ = getrlimit(files, &limit)
        }
        return max(16, min(connections, Int(limit.rlim_cur) - room))
    }

    /// Makes the process's threads share one malloc arena (glibc), so that memory one request or job
    /// thread freed serves the next on another thread instead of staying in its own arena; call it
    /// before any thread starts.
    public static func shareOneMallocArena() {
        sam2_single_malloc_arena()
    }

    /// True when `host` is an IPv4 or IPv6 address the server can listen on.
    public static func isAddress(_ host: String) -> Bool {
        ipv4(host, port: 0) != nil || ipv6(host, port: 0) != nil
    }

    private static func ipv4(_ host: String, port: Int) -> sockaddr_in? {
        var a = sockaddr_in()
        guard inet_pton(AF_INET, host, &a.sin_addr) == 1 else { return nil }
        a.sin_family = sa_family_t(AF_INET)
        #if canImport(Darwin)
            a.sin_len = UInt8(MemoryLayout<sockaddr_in>.size)  // BSD sockets carry their length
        #endif
        a.sin_port = in_port_t(UInt16(port).bigEndian)
        return a
    }

    private static func ipv6(_ host: String, port: Int) -> sockaddr_in6? {
        var a = sockaddr_in6()
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        guard inet_pton(AF_INET6, bare, &a.sin6_addr) == 1 else { return nil }
        a.sin6_family = sa_family_t(AF_INET6)
        #if canImport(Darwin)
            a.sin6_len = UInt8(MemoryLayout<sockaddr_in6>.size)
        #endif
        a.sin6_port = in_port_t(UInt16(port).bigEndian)
        return a
    }
}
