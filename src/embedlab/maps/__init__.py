"""Maps: see embeddings as 2-D/3-D scatter plots (PCA, t-SNE, UMAP) in HTML or PNG, with clusters.

    from embedlab.maps import open_source, make_map
    make_map(open_source("news"), "news.html", method="umap")

Also: two embeddings of the same items side by side (`compare_map`) with the Jaccard overlap of
each item's nearest neighbours, and export for the TensorBoard Embedding Projector.
"""

from embedlab.maps.build import MapSummary, align, compare_map, compare_sources, make_map, open_source
from embedlab.maps.clusters import CLUSTER_METHODS, Clusters, find_clusters, name_clusters
from embedlab.maps.compare import nearest_neighbours, neighbourhood_jaccard
from embedlab.maps.data import MapData, check_vectors, from_collection, from_model, from_vectors_file
from embedlab.maps.project import METHODS, Projection, min_points, project
from embedlab.maps.projector import export_projector

__all__ = [
    "CLUSTER_METHODS",
    "METHODS",
    "Clusters",
    "MapData",
    "MapSummary",
    "Projection",
    "align",
    "check_vectors",
    "compare_map",
    "compare_sources",
    "export_projector",
    "find_clusters",
    "from_collection",
    "from_model",
    "from_vectors_file",
    "make_map",
    "min_points",
    "name_clusters",
    "nearest_neighbours",
    "neighbourhood_jaccard",
    "open_source",
    "project",
]
