// The detection readers on fixtures: COCO detection results, a COCO instances file (also as the
// image map of results), YOLO labels, how each matches image files, and malformed files — one line
// naming the file and the entry or line at fault.

import Foundation
import Testing

@testable import SAM2
@testable import SAM2IO
@testable import SAM2Workflows

@Suite struct DetectionsTests {
    static func fixture(_ name: String) -> URL { ModelFixtures.url("detections/\(name)") }

    @Test func cocoResultsMatchTheIntegerStem() throws {
        let set = try DetectionSet.read(Self.fixture("results.json"))
        #expect(set.format == .cocoResults && set.categories.isEmpty)
        let found = try set.boxes(forImage: "000000000007.jpg")
        #expect(found.imageID == 7)
        #expect(found.detections.map(\.categoryID) == [3, 1])
        #expect(found.detections.map(\.score) == [0.9, 0.3])
        // x, y, w, h → x0, y0, x1, y1, exactly.
        #expect(found.detections[0].corners(width: 97, height: 131) == SIMD4(10.5, 20.25, 40.5, 60.25))
        #expect(found.detections[0].source.hasSuffix("results.json: entry 0"))
        #expect(try set.boxes(forImage: "8.png").detections.count == 1)
        #expect(try set.boxes(forImage: "photo.png").detections.isEmpty)
        #expect(try set.boxes(forImage: "photo.png").imageID == nil)
        #expect(set.namesAny(of: ["a.png", "7.png"]) && !set.namesAny(of: ["a.png"]))
    }

    @Test func cocoInstancesMatchFileNames() throws {
        let set = try DetectionSet.read(Self.fixture("instances.json"))
        #expect(set.format == .cocoInstances)
        #expect(
            set.categories == [
                COCOCategory(id: 1, name: "person", supercategory: "animal"), COCOCategory(id: 2, name: "rock"),
            ])
        let odd = try set.boxes(forImage: "odd.png")
        #expect(odd.imageID == 11 && odd.detections.count == 1 && odd.detections[0].score == nil)
        // By relative path, or by file name when the folder differs.
        #expect(try set.boxes(forImage: "val/square.png").imageID == 12)
        #expect(try set.boxes(forImage: "square.png").imageID == 12)
        #expect(try set.boxes(forImage: "12.png").imageID == nil)
    }

    @Test func resultsWithAnImageMap() throws {
        let set = try DetectionSet.read(Self.fixture("results.json"), imagesFrom: Self.fixture("instances.json"))
        #expect(set.categories.count == 2)
        // The results name images 7 and 8, which the map does not hold.
        #expect(try set.boxes(forImage: "odd.png").imageID == 11)
        #expect(try set.boxes(forImage: "odd.png").detections.isEmpty)
        #expect(try set.boxes(forImage: "7.png").imageID == nil)
    }

    @Test func yoloLabels() throws {
        let folder = try DetectionSet.read(Self.fixture("yolo"))
        #expect(folder.format == .yoloFolder)
        let odd = try folder.boxes(forImage: "odd.png").detections
        #expect(odd.map(\.categoryID) == [0, 2] && odd.map(\.score) == [0.9, 0.1])
        // Centre (0.5, 0.5), size (0.5, 0.25) of a 96×128 image.
        #expect(odd[0].corners(width: 96, height: 128) == SIMD4(24, 48, 72, 80))
        let square = try folder.boxes(forImage: "square.jpg").detections
        #expect(square.count == 1 && square[0].score == nil && square[0].source.hasSuffix("square.txt: line 1"))
        #expect(try folder.boxes(forImage: "missing.png").detections.isEmpty)
        #expect(folder.namesAny(of: ["missing.png", "odd.jpg"]) && !folder.namesAny(of: ["missing.png"]))
        let file = try DetectionSet.read(Self.fixture("yolo/odd.txt"))
        #expect(file.format == .yoloFile)
        #expect(try file.boxes(forImage: "anything.png").detections == odd)
    }

    /// Labels written on Windows: "\r\n" ends a line as "\n" does (fuzzing: it was one Character that a split
    /// on "\n" did not cut, so such a file was one long line of the wrong number of columns).
    @Test func yoloLabelsWithCRLF() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("crlf-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data("0 0.5 0.5 0.5 0.25 0.9\r\n2 0.25 0.75 0.125 0.25 0.1\r\n".utf8).write(to: url)
        let crlf = try DetectionSet.read(url).boxes(forImage: "odd.png").detections
        let odd = try DetectionSet.read(Self.fixture("yolo/odd.txt")).boxes(forImage: "odd.png").detections
        #expect(crlf.map(\.box) == odd.map(\.box) && crlf.map(\.score) == [0.9, 0.1])
        #expect(crlf.map(\.categoryID) == [0, 2] && crlf[1].source.hasSuffix(": line 2"))
    }

    @Test(arguments: [
        ("bad/not_json.json", "not_json.json: not valid JSON"),
        ("bad/unknown.json", "unknown.json: not COCO detection results"),
        ("bad/missing_bbox.json", "missing_bbox.json: entry 1: \"bbox\" is missing"),
        ("bad/negative_size.json", "negative_size.json: entry 0: \"bbox\" has a negative width or height"),
        ("bad/short_bbox.json", "short_bbox.json: entry 0: \"bbox\" is not a list of 4 numbers"),
        ("bad/text_bbox.json", "text_bbox.json: entry 0: \"bbox\" holds a value that is not a finite number"),
        ("bad/text_image_id.json", "text_image_id.json: entry 0: \"image_id\" is missing or not an integer"),
        ("bad/text_score.json", "text_score.json: entry 0: \"score\" is not a finite number"),
        ("bad/instances_no_file_name.json", "instances_no_file_name.json: images entry 0: \"file_name\" is missing"),
        ("bad/instances_bad_annotation.json", "instances_bad_annotation.json: annotations entry 1: is not an object"),
        ("bad/columns.txt", "columns.txt: line 2: expected 5 or 6 columns (class cx cy w h [confidence]), found 4"),
        ("bad/not_a_number.txt", "not_a_number.txt: line 1: cy 'abc' is not a finite number"),
        ("bad/negative.txt", "negative.txt: line 1: negative width or height"),
        ("bad/class.txt", "class.txt: line 3: class 'car' is not a non-negative integer"),
        ("missing.json", "cannot read"),
    ])
    func malformedFilesNameTheEntry(file: String, message: String) throws {
        let error = #expect(throws: DatasetFileError.self) { try DetectionSet.read(Self.fixture(file)) }
        let text = error.map(String.init(describing:)) ?? ""
        #expect(text.contains(message), "\(text)")
        #expect(text.contains(file), "\(text)")
        #expect(!text.contains("\n"))
    }
}
