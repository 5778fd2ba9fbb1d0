"""Demo data for suanli: real Chinese computing centers with seeded spare-capacity pools
(:mod:`suanli.demo.fleet`) and a replayed day of real job demand from fictional Chinese
SME buyers (:mod:`suanli.demo.demand`). Runtime code reads only the small CSV files
packaged in ``suanli/demo/data`` (see the README there for sources and derivation)."""

__all__: list[str] = []
