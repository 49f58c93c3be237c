//! Typed indices into the world's tables, so an asset index can never be used as a venue index.

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);

        impl $name {
            /// The index as a `usize`, for indexing the world's vectors.
            #[inline]
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

id_type!(
    /// An asset (ETH, USDC, ...), index into the world's asset table.
    AssetId
);
id_type!(
    /// A venue where an asset is traded against the numeraire.
    VenueId
);
id_type!(
    /// A price oracle.
    OracleId
);
id_type!(
    /// A protocol (lending market, ...).
    ProtocolId
);
id_type!(
    /// A keeper (liquidator).
    KeeperId
);
id_type!(
    /// An account of a protocol, index into that protocol's account table.
    AccountId
);
id_type!(
    /// A perpetual-swap exchange (one insurance fund, one backstop vault, its markets).
    PerpId
);
id_type!(
    /// A market of a perpetual-swap exchange, index into that exchange's market table.
    MarketId
);
