/// Vectorised transcendental functions (Cephes single-precision polynomials, ~1 ulp),
/// so the hot elementwise kernels do not call libm once per element.
public enum VectorMath {
    public typealias Vector = SIMD8<Float>

    @inline(__always)
    public static func exp(_ input: Vector) -> Vector {
        var x0 = input
        x0.replace(with: -87.3, where: input .< -87.3)
        x0.replace(with: 88.3, where: input .> 88.3)
        // Round x·log2(e) to the nearest integer n with the 1.5·2²³ trick: n's bits land in the mantissa,
        // so 2ⁿ is built with integer vector ops (Swift's Float→Int SIMD conversion is not vectorised).
        let shifted = x0 * 1.442_695_04 + magic
        let fx = shifted - magic
        var x = x0 - fx * 0.693_359_375
        x = x + fx * 2.121_944_4e-4
        let z = x * x
        var y = Vector(repeating: 1.987_569_15e-4)
        y = y * x + 1.398_199_95e-3
        y = y * x + 8.333_451_9e-3
        y = y * x + 4.166_579_59e-2
        y = y * x + 1.666_666_55e-1
        y = y * x + 5.000_000_12e-1
        y = y * z + x + 1
        let n = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- magicBits
        let scale = unsafeBitCast((n &+ 127) &<< 23, to: Vector.self)
        var result = y * scale
        result.replace(with: 0, where: input .< -87.3)
        result.replace(with: .infinity, where: input .> 88.3)
        return result
    }

    private static let magic = Vector(repeating: 12_582_912)  // 1.5 · 2²³
    private static let magicBits = SIMD8<Int32>(repeating: 0x4B40_0000)

    @inline(__always)
    public static func tanh(_ x: Vector) -> Vector {
        let a = abs(x)
        // Large |x|: 1 - 2/(e^{2|x|}+1); small |x|: odd polynomial, avoiding cancellation.
        let e = exp(2 * a)
        var large = 1 - 2 / (e + 1)
        large.replace(with: -large, where: x .< 0)
        let z = x * x
        var p = Vector(repeating: -5.704_988_727_45e-3)
        p = p * z + 2.063_908_879_54e-2
        p = p * z - 5.373_971_555_31e-2
        p = p * z + 1.333_144_220_36e-1
        p = p * z - 3.333_328_194_22e-1
        let small = p * z * x + x
        var result = large
        result.replace(with: small, where: a .< 0.625)
        return result
    }

    @inline(__always)
    public static func sigmoid(_ x: Vector) -> Vector { 1 / (1 + exp(-x)) }

    @inline(__always)
    static func abs(_ x: Vector) -> Vector {
        unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: Vector.self)
    }

    /// Applies `f` to `count` floats from `source` into `destination` (which may alias it), 8 lanes at a time.
    @inline(__always)
    public static func map(_ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<Float>, count: Int,
                           _ f: (Vector) -> Vector) {
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(source + i).loadUnaligned(as: Vector.self)
            UnsafeMutableRawPointer(destination + i).storeBytes(of: f(v), as: Vector.self)
            i += 8
        }
        if i < count {
            var v = Vector(repeating: 0)
            for lane in 0..<(count - i) { v[lane] = source[i + lane] }
            let r = f(v)
            for lane in 0..<(count - i) { destination[i + lane] = r[lane] }
        }
    }
}
