import Tensor

/// A layer or model: it lists its parameters under Hugging Face key names, explicitly (no reflection).
public protocol Module: AnyObject {
    /// Every parameter, keyed by its name relative to this module (e.g. `attn.c_attn.weight`).
    var namedParameters: [(name: String, parameter: Parameter)] { get }
}

extension Module {
    public var parameters: [Parameter] { namedParameters.map(\.parameter) }

    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    /// Freezes or unfreezes every parameter.
    public func setTrainable(_ trainable: Bool) {
        for p in parameters { p.isTrainable = trainable }
    }
}

/// Joins child parameter lists under their key prefixes (`prefix.name`).
public func namespaced(_ children: (String, [(name: String, parameter: Parameter)])...) -> [(name: String, parameter: Parameter)] {
    namespaced(children)
}

public func namespaced(_ children: [(String, [(name: String, parameter: Parameter)])]) -> [(name: String, parameter: Parameter)] {
    children.flatMap { prefix, list in list.map { (prefix.isEmpty ? $0.name : "\(prefix).\($0.name)", $0.parameter) } }
}
