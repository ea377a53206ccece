/// Bit-level conversions between float32 and the two 16-bit float formats checkpoints use.
///
/// Written on bit patterns rather than Swift's `Float16` because `Float16` is unavailable on
/// macOS x86_64, and because bfloat16 has no Swift type at all. Both narrowings round to nearest,
/// ties to even, as PyTorch's `.to(torch.float16)` and `.to(torch.bfloat16)` do.
public enum HalfPrecision {
    // MARK: IEEE binary16 (F16): 1 sign, 5 exponent, 10 mantissa bits

    /// The float16 nearest to `value`: overflow goes to infinity, tiny values to subnormals or zero,
    /// NaN stays NaN (quiet, keeping the sign and the top payload bits as F16C and ARM do).
    @inline(__always)
    public static func float16Bits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16(truncatingIfNeeded: (bits >> 16) & 0x8000)
        let exponent = Int((bits >> 23) & 0xFF)
        let mantissa = bits & 0x7F_FFFF

        if exponent == 0xFF {
            let nan: UInt16 = mantissa == 0 ? 0 : 0x0200 | UInt16(truncatingIfNeeded: mantissa >> 13)
            return sign | 0x7C00 | nan
        }
        let halfExponent = exponent - 127 + 15
        if halfExponent >= 0x1F { return sign | 0x7C00 }
        if halfExponent <= 0 {
            // Below half the smallest subnormal (2^-25) everything rounds to zero.
            if halfExponent < -10 { return sign }
            let significand = mantissa | 0x80_0000
            let dropped = UInt32(14 - halfExponent)
            return sign | UInt16(truncatingIfNeeded: roundShifted(significand, by: dropped))
        }
        // A carry out of the mantissa bumps the exponent, and from the largest finite value to infinity.
        let combined = UInt32(halfExponent) << 23 | mantissa
        return sign | UInt16(truncatingIfNeeded: roundShifted(combined, by: 13))
    }

    /// The exact float32 value of a float16 bit pattern.
    @inline(__always)
    public static func float(float16Bits half: UInt16) -> Float {
        let sign = UInt32(half & 0x8000) << 16
        let exponent = UInt32(half >> 10) & 0x1F
        let mantissa = UInt32(half & 0x3FF)
        switch exponent {
        case 0x1F:
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        case 0:
            // Subnormal (or zero): mantissa × 2^-24, exact in float32.
            let magnitude = Float(mantissa) * 0x1p-24
            return Float(bitPattern: sign | magnitude.bitPattern)
        default:
            return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
        }
    }

    // MARK: bfloat16 (BF16): the top 16 bits of a float32

    /// The bfloat16 nearest to `value`, rounding ties to even exactly like PyTorch; NaN stays a quiet
    /// NaN with its sign (PyTorch itself writes 0x7FC0 or 0xFFFF depending on the kernel path).
    @inline(__always)
    public static func bfloat16Bits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if bits & 0x7FFF_FFFF > 0x7F80_0000 {
            return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040
        }
        let roundingBias = 0x7FFF + ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (bits &+ roundingBias) >> 16)
    }

    /// The exact float32 value of a bfloat16 bit pattern.
    @inline(__always)
    public static func float(bfloat16Bits half: UInt16) -> Float {
        Float(bitPattern: UInt32(half) << 16)
    }

    // MARK: Bulk conversion between little-endian bytes and floats

    /// Decodes `destination.count` little-endian float16 values from `source`, which may be unaligned.
    public static func decodeFloat16(_ source: UnsafeRawPointer, into destination: UnsafeMutableBufferPointer<Float>) {
        for i in destination.indices {
            let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
            destination[i] = float(float16Bits: bits)
        }
    }

    /// Decodes `destination.count` little-endian bfloat16 values from `source`, which may be unaligned.
    public static func decodeBFloat16(_ source: UnsafeRawPointer, into destination: UnsafeMutableBufferPointer<Float>) {
        for i in destination.indices {
            let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
            destination[i] = float(bfloat16Bits: bits)
        }
    }

    /// Encodes `source` as little-endian float16 into `destination` (2 × count bytes, any alignment).
    public static func encodeFloat16(_ source: UnsafeBufferPointer<Float>, into destination: UnsafeMutableRawPointer) {
        for i in source.indices {
            destination.storeBytes(of: float16Bits(source[i]).littleEndian, toByteOffset: 2 * i, as: UInt16.self)
        }
    }

    /// Encodes `source` as little-endian bfloat16 into `destination` (2 × count bytes, any alignment).
    public static func encodeBFloat16(_ source: UnsafeBufferPointer<Float>, into destination: UnsafeMutableRawPointer) {
        for i in source.indices {
            destination.storeBytes(of: bfloat16Bits(source[i]).littleEndian, toByteOffset: 2 * i, as: UInt16.self)
        }
    }

    /// `value >> shift` rounded to nearest, ties to even (`shift` in 1...31).
    @inline(__always)
    private static func roundShifted(_ value: UInt32, by shift: UInt32) -> UInt32 {
        let kept = value >> shift
        let remainder = value & ((1 << shift) - 1)
        let halfway: UInt32 = 1 << (shift - 1)
        let roundsUp = remainder > halfway || (remainder == halfway && kept & 1 == 1)
        return roundsUp ? kept + 1 : kept
    }
}
