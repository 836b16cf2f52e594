"""The recursive models (TRM), laid out so their parameters map 1:1 to the TF.js engine's."""
