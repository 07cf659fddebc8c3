// plotly.js with the traces the dashboard draws. scatter3d (a third of the bundle's start-up) is
// registered on the first figure that uses it, so the 2-D page does not pay for it.
'use strict';

var Plotly = require('plotly.js/lib/core');

Plotly.register([require('plotly.js/lib/bar'), require('plotly.js/lib/scattergl'), require('plotly.js/lib/parcoords')]);

var scatter3dRegistered = false;

function uses3d(data) {
    var traces = Array.isArray(data) ? data : (data && data.data) || [];
    return traces.some(function(trace) { return trace && trace.type === 'scatter3d'; });
}

['newPlot', 'react', 'plot', 'addTraces'].forEach(function(name) {
    var draw = Plotly[name];
    Plotly[name] = function(gd, data) {
        if(!scatter3dRegistered && uses3d(data)) {
            Plotly.register(require('plotly.js/lib/scatter3d'));
            scatter3dRegistered = true;
        }
        return draw.apply(this, arguments);
    };
});

module.exports = Plotly;
