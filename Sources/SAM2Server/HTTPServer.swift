// HTTPServer: a small HTTP/1.1 server on GNU libmicrohttpd (through CMicroHTTPD), one thread per
// connection, request bodies capped in size. Knows nothing about SAM: it hands each complete
// request to a handler and sends back what the handler returns.

import CMicroHTTPD
import Foundation

/// A complete request: method, URL-decoded path, query arguments on demand, body.
public struct HTTPRequest {
    public var method: String
    public var path: String
    public var body: Data
    fileprivate let connection: OpaquePointer

    fileprivate init(_ r: sam2_http_request) {
        method = String(cString: r.method)
        path = String(cString: r.path)
        body = r.body.map { Data(bytes: $0, count: r.body_length) } ?? Data()
        connection = r.connection!
    }

    /// A query argument (URL-decoded), or nil.
    public func query(_ name: String) -> String? {
        sam2_http_query(connection, name).map { String(cString: $0) }
    }

    /// A request header, or nil.
    public func header(_ name: String) -> String? {
        sam2_http_header(connection, name).map { String(cString: $0) }
    }
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

    private let handler: Handler
    private let daemon: UnsafeMutablePointer<sam2_http_daemon>
    /// The port listened on (the one picked when 0 was asked for).
    public private(set) var port = 0

    /// Starts listening on host:port (port 0: any free port); bodies over `maxBodyBytes` are refused.
    public init(
        host: String, port: Int, maxBodyBytes: Int, connectionLimit: Int = 64, timeoutSeconds: Int = 60,
        handler: @escaping Handler
    ) throws {
        self.handler = handler
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
        let status = withUnsafePointer(to: &storage) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sam2_http_start(daemon, $0, ipv6 ? 1 : 0, UInt32(connectionLimit), UInt32(timeoutSeconds))
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

    /// Stops listening and waits for the connection threads to finish.
    public func stop() {
        sam2_http_stop(daemon)
    }

    private func answer(_ request: sam2_http_request) -> MHD_Result {
        let response = handler(HTTPRequest(request), request.body_too_large != 0)
        return response.body.withUnsafeBytes { body in
            sam2_http_respond(
                request.connection, UInt32(response.status), response.contentType, body.baseAddress,
                body.count, response.header?.name, response.header?.value)
        }
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
