// `sam2 serve`: the local web annotation page and its JSON API (SAM2Server) on one model, until
// interrupted (Ctrl-C or SIGTERM).

import Foundation
import SAM2
import SAM2IO
import SAM2Server
import SAM2Workflows

enum ServeCommand: Command {
    static let help = """
        usage: sam2 serve --checkpoint CKPT|--model NAME [options]

        Serves a web page for annotating the images and videos of a project folder — click an object, see its
        mask, refine, accept it with a label, export COCO JSON and mask PNGs; on a video, prompt objects on any
        frame, track them in the background, correct and export DAVIS PNGs, COCO JSON or an overlay MP4 — and
        the JSON API behind it (see docs/openapi.yaml). Open the printed address in a browser.

        \(ModelOptions.help())
          --config NAME           configuration (preset name, alias or .json); detected by default
          --host ADDRESS          address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 opens it
                                  to the network)
          --allow-host NAME       a host name of this machine to accept besides 127.x.x.x, ::1 and localhost
                                  (repeatable; other names are refused on loopback, against DNS rebinding)
          --port N                port (default 8080; 0 picks a free one)
          --project DIR           folder of the images and videos (video files, folders of JPEG frames); annotations
                                  and videos' prompts and masks go to DIR/.sam2, exports to DIR/export (default: .)
          --max-upload-mb N       largest accepted request body in MiB (default 64)
          --cache-mb N            memory for open images and their embeddings in MiB, least recently used out,
                                  and as much for open videos (decoded frames, tracking memory) (default 1024)
          --max-megapixels N      refuse images over N megapixels, from their header, before decoding or saving
                                  them (default 50)
          --threads N             threads to use (default: all cores)
          --quiet                 no request log or stop message on stderr
        """

    static func run(_ args: inout Arguments) throws {
        HTTPServer.shareOneMallocArena()  // before the model's threads: peak memory as sam2 track's
        let modelOptions = try ModelOptions(&args)
        var options = AnnotationServer.Options()
        options.host = try args.value("--host") ?? options.host
        options.allowedHosts = try args.values("--allow-host")
        options.port = try args.int("--port", default: 8080, range: 0...65535)!
        let projectPath = try args.value("--project") ?? "."
        options.maxUploadBytes = try args.int("--max-upload-mb", default: 64, range: 1...4096)! << 20
        options.cacheBytes = try args.int("--cache-mb", default: 1024, range: 64...1_048_576)! << 20
        options.imageLimits = try args.imageLimits()
        let quiet = args.flag("--quiet")
        let extra = try args.positionals()
        guard extra.isEmpty else {
            throw ToolError.usage("serve: unexpected argument '\(extra[0])' (see sam2 serve --help)")
        }
        guard HTTPServer.isAddress(options.host) else {
            throw ToolError.usage(
                "serve: --host '\(options.host)' is not an IPv4 or IPv6 address (e.g. 127.0.0.1, 0.0.0.0 or ::1)")
        }
        modelOptions.applyThreads()

        let project: ProjectFolder
        do {
            project = try ProjectFolder(path: projectPath)
        } catch let error as APIError {
            throw ToolError.usage("serve: --project: \(error.message)")
        }
        let model = try modelOptions.load()
        if !quiet {
            options.log = { line in FileHandle.standardError.write(Data("sam2 serve: \(line)\n".utf8)) }
        }
        // Ctrl-C and SIGTERM are taken by sigwait below, in every thread.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        signal(SIGPIPE, SIG_IGN)
        let server: AnnotationServer
        do {
            server = try AnnotationServer(model: model, project: project, options: options)
        } catch let error as HTTPServerError {
            throw ToolError.runtime("serve: \(error)")
        } catch let error as APIError {
            throw ToolError.runtime("serve: \(error.message)")
        }
        let shownHost = options.host.contains(":") ? "[\(options.host)]" : options.host
        print(
            "sam2 serve: http://\(shownHost):\(server.port)/ (model \(model.configuration.name), project "
                + "\(project.root.path))"
        )
        fflush(nil)
        var received: Int32 = 0
        sigwait(&signals, &received)
        server.stop()
        if !quiet { FileHandle.standardError.write(Data("sam2 serve: stopped\n".utf8)) }
    }
}
