"""The recursive models (TRM, HRM on one interface, recursive_model.py), laid out so their parameters map 1:1 to the TF.js engine's."""
