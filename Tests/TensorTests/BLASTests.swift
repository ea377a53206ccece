import XCTest
@testable import Tensor

/// Every shape of product the engine routes differently (one row, a few rows through the streaming kernel, many
/// rows through sgemm; remainders of its 4 × 3 (AVX2) and 6 × 4 (AVX-512VL) tiles and 8-lane dot products) against double-precision sums.
final class BLASTests: XCTestCase {
    func testProductsOfEveryRouteMatchDoublePrecisionSums() {
        var random = SeededGenerator(seed: 7)
        for m in [1, 2, 3, 5, 7, 16, 31, 32, 33, 70] {
            for (n, k) in [(1, 9), (7, 8), (50, 33), (130, 260)] {
                for transposeB in [false, true] {
                    for (alpha, beta) in [(Float(1), Float(0)), (0.5, 2)] {
                        let a = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &random) }
                        let b = (0..<(k * n)).map { _ in Float.random(in: -1...1, using: &random) }
                        let start = (0..<(m * n)).map { _ in Float.random(in: -1...1, using: &random) }
                        var c = start
                        BLAS.sgemm(transposeA: false, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a, lda: k,
                                   b: b, ldb: transposeB ? k : n, beta: beta, c: &c, ldc: n)
                        for i in 0..<m {
                            for j in 0..<n {
                                var sum = 0.0
                                for p in 0..<k { sum += Double(a[i * k + p]) * Double(transposeB ? b[j * k + p] : b[p * n + j]) }
                                let expected = Double(alpha) * sum + Double(beta) * Double(start[i * n + j])
                                XCTAssertEqual(Double(c[i * n + j]), expected, accuracy: 1e-5 * Double(k),
                                               "m \(m) n \(n) k \(k) transposeB \(transposeB) at [\(i), \(j)]")
                            }
                        }
                    }
                }
            }
        }
    }
}
