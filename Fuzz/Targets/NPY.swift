// Fuzz target `npy`: the bytes as a NumPy .npy file read by NPY.read. Seeds: the .npy fixtures.

import Foundation
import SAM2IO

extension FuzzTarget {
    static let npy = FuzzTarget(
        name: "npy", summary: "a .npy array read as float32",
        seeds: { fixtures in
            try fixtures.files("Tests/SAM2Tests/Fixtures/images", extensions: ["npy"])
                + fixtures.files("Tests/SAM2TensorTests/Fixtures", extensions: ["npy"], maxBytes: 16 << 10)
        },
        entry: { data, scratch in
            let (shape, values) = try NPY.read(scratch.file(data, name: "input.npy"))
            guard shape.allSatisfy({ $0 >= 0 }), values.count == shape.reduce(1, *) else {
                throw FuzzViolation("shape \(shape) with \(values.count) values")
            }
            return "shape \(shape)"
        })
}
