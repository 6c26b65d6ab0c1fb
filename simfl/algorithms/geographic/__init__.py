"""Geographic federated learning (SGFusion, arXiv 2510.23455): zones, their hierarchy, fusion.

The pure math of SGFusion lives here: the dendrogram of zones and its loss
(:mod:`.dendrogram`), fitting it to a distance matrix (:mod:`.hrg_fit`, :mod:`.hrg_exact`,
:mod:`.hrg_mcmc`, :mod:`.hrg_window`), reading distance files (:mod:`.distance_files`) and
fit files (:mod:`.hrg_file`), drawing fusion partners from it (:mod:`.zone_sampling`) and
the attention-weighted fused update (:mod:`.fusion`).
"""
