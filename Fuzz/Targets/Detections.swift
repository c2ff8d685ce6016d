// Fuzz targets `coco-detections` and `yolo-labels`: the bytes as a detector's boxes — a COCO results
// or instances JSON file, or YOLO txt labels — read by DetectionSet and looked up for a few image
// names, each box turned into corners on a 640×480 image. Seeds: the detections fixtures.

import Foundation
import SAM2Workflows

extension FuzzTarget {
    static let cocoDetections = FuzzTarget(
        name: "coco-detections", summary: "COCO results / instances JSON, boxes looked up",
        seeds: { fixtures in
            try fixtures.files("Tests/SAM2Tests/Fixtures/detections", extensions: ["json"])
                + fixtures.files("Tests/SAM2Tests/Fixtures/detections/bad", extensions: ["json"])
                + fixtures.files("Tests/SAM2Tests/Fixtures/detections/merge", extensions: ["json"])
        },
        entry: { data, scratch in try readDetections(scratch.file(data, name: "boxes.json")) })

    static let yoloLabels = FuzzTarget(
        name: "yolo-labels", summary: "a YOLO labels .txt file, boxes looked up",
        seeds: { fixtures in
            try fixtures.files("Tests/SAM2Tests/Fixtures/detections/yolo", extensions: ["txt"])
                + fixtures.files("Tests/SAM2Tests/Fixtures/detections/bad", extensions: ["txt"])
        },
        entry: { data, scratch in try readDetections(scratch.file(data, name: "labels.txt")) })

    private static func readDetections(_ url: URL) throws -> String {
        let set = try DetectionSet.read(url)
        let names = ["000000000001.jpg", "1.jpg", "a.jpg", "images/a.jpg", "b.png"]
        var boxes = 0
        for name in names {
            for detection in try set.boxes(forImage: name).detections {
                _ = detection.corners(width: 640, height: 480)
                boxes += 1
            }
        }
        _ = set.namesAny(of: names)
        return "\(set.format.rawValue): \(boxes) boxes, \(set.categories.count) categories"
    }
}
