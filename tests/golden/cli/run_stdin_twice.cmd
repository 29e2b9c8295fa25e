cep run run/types.cep --input - --input -
