// Fuzz target `coco-merge`: the bytes split at the first NUL into two COCO instances files, merged by
// COCOMerge; the result must be a JSON object with images, annotations (ids 1, 2, …) and categories.
// Seeds: the merge fixtures, paired.

import Foundation
import SAM2Workflows

extension FuzzTarget {
    static let cocoMerge = FuzzTarget(
        name: "coco-merge", summary: "two COCO instances files (split at NUL) merged", maxLength: 8192,
        seeds: { fixtures in
            let files =
                try fixtures.files("Tests/SAM2Tests/Fixtures/detections/merge", extensions: ["json"])
                + fixtures.files("Tests/SAM2Tests/Fixtures/detections", extensions: ["json"])
            return files.flatMap { a in files.map { b in ("\(a.name)+\(b.name)", a.data + Data([0]) + b.data) } }
        },
        entry: { data, scratch in
            let parts = data.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
            let urls = try parts.enumerated().map { try scratch.file(Data($0.element), name: "part\($0.offset).json") }
            let merged = try COCOMerge.merge(urls)
            guard let object = try? JSONSerialization.jsonObject(with: merged) as? [String: Any],
                let annotations = object["annotations"] as? [[String: Any]], object["images"] is [Any],
                object["categories"] is [Any]
            else { throw FuzzViolation("the merged file is not a COCO instances object") }
            guard annotations.enumerated().allSatisfy({ ($0.element["id"] as? Int) == $0.offset + 1 }) else {
                throw FuzzViolation("annotation ids are not 1, 2, …")
            }
            return "\(annotations.count) annotations"
        })
}
