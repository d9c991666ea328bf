import Store

/// Store's canonical JSON value, named apart from Model's canonical JSON encoder (this file
/// imports only Store, so the name is unambiguous here). Public: modules that import both Model
/// and Store name the store's documents by it.
public typealias StoredJSON = CanonicalJSON
