/// The version of the Backprop library, as written into model files and printed by `backprop --version`.
public let backpropVersion = "0.2.0"
